//! The device authorization grant (RFC 8628): `/device/authorization`,
//! `/device/verification` and `/device/complete`.

mod flow;
pub use crate::api::verdict::{Approval, Decision};
pub use flow::decision;

use super::authorization::{CimdOptions, DynamicScope, Scope};
use super::backchannel::CompleteResult;
use super::{
    Error, JsonObject, Outcome, Property, answer, exchange, json_object, require, wire_reply,
    wire_request,
};
use crate::action::{
    self, DeviceAuthorizationAction, DeviceCompleteAction, DeviceVerificationAction,
};
use crate::backend::{Api, Backend};
use crate::http::EndpointHeaders;

wire_request! {
    /// `POST /device/authorization`.
    Request {
        parameters: String,
        ;
        client_id: String,
        client_secret: String,
        client_certificate: String,
        client_certificate_path: Vec<String>,
        oauth_client_attestation: String,
        oauth_client_attestation_pop: String,
        cimd_options: Option<CimdOptions>,
    }
}

wire_reply! {
    /// Reply of `/device/authorization`.
    Response {
        action: DeviceAuthorizationAction,
        result_code: String,
        result_message: String,
        response_content: String,
        client_id: i64,
        client_id_alias: String,
        client_id_alias_used: bool,
        client_name: String,
        client_auth_method: String,
        scopes: Vec<Scope>,
        dynamic_scopes: Vec<DynamicScope>,
        claim_names: Vec<String>,
        acrs: Vec<String>,
        device_code: String,
        user_code: String,
        verification_uri: String,
        verification_uri_complete: String,
        expires_in: i64,
        interval: i64,
        warnings: Vec<String>,
        resources: Vec<String>,
        authorization_details: Option<JsonObject>,
        gm_action: String,
        grant_id: String,
        grant_subject: String,
        attestation_challenge: String,
    }
}

answer!(Response => action::device_authorization, headers: |r| EndpointHeaders {
    dpop_nonce: None,
    attestation_challenge: Some(r.attestation_challenge.clone()),
});

wire_request! {
    /// `POST /device/verification`.
    VerificationRequest { user_code: String, ; }
}

wire_reply! {
    /// Reply of `/device/verification` (no `responseContent`).
    VerificationResponse {
        action: DeviceVerificationAction,
        result_code: String,
        result_message: String,
        client_id: i64,
        client_id_alias: String,
        client_id_alias_used: bool,
        client_name: String,
        scopes: Vec<Scope>,
        dynamic_scopes: Vec<DynamicScope>,
        claim_names: Vec<String>,
        acrs: Vec<String>,
        resources: Vec<String>,
        authorization_details: Option<JsonObject>,
        expires_at: i64,
        gm_action: String,
        grant_id: String,
        grant_subject: String,
    }
}

wire_request! {
    /// `POST /device/complete`.
    CompleteRequest {
        user_code: String,
        result: CompleteResult,
        ;
        subject: String,
        sub: String,
        auth_time: i64,
        acr: String,
        claims: String,
        properties: Vec<Property>,
        scopes: Vec<String>,
        error_description: String,
        error_uri: String,
        idt_header_params: String,
        consented_claims: Vec<String>,
        jwt_at_claims: String,
        access_token_duration: i64,
        refresh_token_duration: i64,
        id_token_aud_type: String,
    }
}

wire_reply! {
    /// Reply of `/device/complete` (no `responseContent`).
    CompleteResponse {
        action: DeviceCompleteAction,
        result_code: String,
        result_message: String,
    }
}

use super::answer_without_content;

answer_without_content!(VerificationResponse => action::device_verification);
answer_without_content!(CompleteResponse => action::device_complete);

/// Processes a device authorization request.
pub async fn authorization(
    backend: &dyn Backend,
    request: &Request,
) -> Result<Outcome<Response>, Error> {
    exchange(backend, Api::DeviceAuthorization, request).await
}

/// Looks up the user code the end-user typed. A VALID outcome carries the
/// continuation [`decision`] needs.
pub async fn verification(
    backend: &dyn Backend,
    request: &VerificationRequest,
    sealer: &super::Sealer,
) -> Result<Outcome<VerificationResponse>, Error> {
    require("user_code", &request.user_code)?;
    let mut outcome: Outcome<VerificationResponse> =
        exchange(backend, Api::DeviceVerification, request).await?;
    outcome.continuation =
        flow::continuation(&request.user_code, &outcome.body, sealer).unwrap_or_default();
    Ok(outcome)
}

/// Reports the end-user's verdict on the device's request.
pub async fn complete(
    backend: &dyn Backend,
    request: &CompleteRequest,
) -> Result<Outcome<CompleteResponse>, Error> {
    require("user_code", &request.user_code)?;
    if request.result == CompleteResult::Authorized {
        require("subject", &request.subject)?;
    }
    json_object("claims", &request.claims)?;
    json_object("idt_header_params", &request.idt_header_params)?;
    json_object("jwt_at_claims", &request.jwt_at_claims)?;
    exchange(backend, Api::DeviceComplete, request).await
}
