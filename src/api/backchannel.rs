//! CIBA (OpenID Connect Client-Initiated Backchannel Authentication):
//! `/backchannel/authentication`, `.../issue`, `.../fail` and `.../complete`.

use serde::Serialize;

mod flow;
pub use flow::{Identification, decision, user_decision};

use super::authorization::{CimdOptions, DynamicScope, Scope};
use super::{
    Error, JsonObject, Outcome, Property, answer, exchange, json_object, require, wire_reply,
    wire_request,
};
use crate::action::{
    self, BackchannelAuthenticationAction, BackchannelAuthenticationCompleteAction,
    BackchannelAuthenticationFailAction, BackchannelAuthenticationIssueAction,
};
use crate::backend::{Api, Backend};
use crate::http::EndpointHeaders;

wire_request! {
    /// `POST /backchannel/authentication`.
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
    /// Reply of `/backchannel/authentication`.
    Response {
        action: BackchannelAuthenticationAction,
        result_code: String,
        result_message: String,
        response_content: String,
        ticket: String,
        client_id: i64,
        client_id_alias: String,
        client_id_alias_used: bool,
        client_name: String,
        client_auth_method: String,
        delivery_mode: String,
        client_notification_token: String,
        scopes: Vec<Scope>,
        dynamic_scopes: Vec<DynamicScope>,
        claim_names: Vec<String>,
        acrs: Vec<String>,
        hint_type: String,
        hint: String,
        sub: String,
        binding_message: String,
        user_code: String,
        user_code_required: bool,
        requested_expiry: i64,
        request_context: String,
        warnings: Vec<String>,
        resources: Vec<String>,
        authorization_details: Option<JsonObject>,
        gm_action: String,
        grant_id: String,
        grant_subject: String,
        attestation_challenge: String,
    }
}

// The first reply's attestation challenge goes on its own response only
// (jaxrs: "first call only").
answer!(Response => action::backchannel_authentication, headers: |r| EndpointHeaders {
    dpop_nonce: None,
    attestation_challenge: Some(r.attestation_challenge.clone()),
});

wire_request! {
    /// `POST /backchannel/authentication/issue`.
    IssueRequest { ticket: String, ; }
}

wire_reply! {
    /// Reply of `/backchannel/authentication/issue`.
    IssueResponse {
        action: BackchannelAuthenticationIssueAction,
        result_code: String,
        result_message: String,
        response_content: String,
        auth_req_id: String,
        expires_in: i64,
        interval: i64,
    }
}

answer!(IssueResponse => action::backchannel_authentication_issue);

/// Why a backchannel authentication request fails (Authlete
/// `BackchannelAuthenticationFailRequest.Reason`); each becomes the
/// same-named lowercase OAuth `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FailReason {
    AccessDenied,
    ExpiredLoginHintToken,
    InvalidBindingMessage,
    InvalidTarget,
    InvalidUserCode,
    MissingUserCode,
    #[default]
    ServerError,
    UnauthorizedClient,
    UnknownUserId,
}

wire_request! {
    /// `POST /backchannel/authentication/fail`.
    FailRequest {
        ticket: String,
        reason: FailReason,
        ;
        error_description: String,
        error_uri: String,
    }
}

wire_reply! {
    /// Reply of `/backchannel/authentication/fail`.
    FailResponse {
        action: BackchannelAuthenticationFailAction,
        result_code: String,
        result_message: String,
        response_content: String,
    }
}

answer!(FailResponse => action::backchannel_authentication_fail);

/// The end-user's verdict on a CIBA or device flow request (Authlete
/// `...CompleteRequest.Result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompleteResult {
    #[default]
    TransactionFailed,
    AccessDenied,
    Authorized,
}

wire_request! {
    /// `POST /backchannel/authentication/complete`.
    CompleteRequest {
        ticket: String,
        result: CompleteResult,
        ;
        subject: String,
        sub: String,
        auth_time: i64,
        acr: String,
        claims: String,
        properties: Vec<Property>,
        scopes: Vec<String>,
        idt_header_params: String,
        error_description: String,
        error_uri: String,
        consented_claims: Vec<String>,
        jwt_at_claims: String,
        access_token: String,
        access_token_duration: i64,
        refresh_token_duration: i64,
        id_token_aud_type: String,
    }
}

wire_reply! {
    /// Reply of `/backchannel/authentication/complete`.
    CompleteResponse {
        action: BackchannelAuthenticationCompleteAction,
        result_code: String,
        result_message: String,
        response_content: String,
        client_id: i64,
        client_id_alias: String,
        client_id_alias_used: bool,
        client_name: String,
        delivery_mode: String,
        client_notification_endpoint: String,
        client_notification_token: String,
        auth_req_id: String,
        access_token: String,
        refresh_token: String,
        id_token: String,
        access_token_duration: i64,
        refresh_token_duration: i64,
        id_token_duration: i64,
        jwt_access_token: String,
        resources: Vec<String>,
        grant_id: String,
    }
}

answer!(CompleteResponse => action::backchannel_authentication_complete);

/// Processes a backchannel authentication request. A USER_IDENTIFICATION
/// outcome carries the continuation [`decision`] needs.
pub async fn authentication(
    backend: &dyn Backend,
    request: &Request,
    sealer: &super::Sealer,
) -> Result<Outcome<Response>, Error> {
    let mut outcome: Outcome<Response> =
        exchange(backend, Api::BackchannelAuthentication, request).await?;
    outcome.continuation = flow::continuation(&outcome.body, sealer).unwrap_or_default();
    Ok(outcome)
}

/// Issues the `auth_req_id` after the web tier identified the user.
pub async fn issue(
    backend: &dyn Backend,
    request: &IssueRequest,
) -> Result<Outcome<IssueResponse>, Error> {
    require("ticket", &request.ticket)?;
    exchange(backend, Api::BackchannelAuthenticationIssue, request).await
}

/// Builds the error response of a backchannel authentication request.
pub async fn fail(
    backend: &dyn Backend,
    request: &FailRequest,
) -> Result<Outcome<FailResponse>, Error> {
    require("ticket", &request.ticket)?;
    exchange(backend, Api::BackchannelAuthenticationFail, request).await
}

/// Reports the end-user's verdict; the reply says whether the client must be notified.
pub async fn complete(
    backend: &dyn Backend,
    request: &CompleteRequest,
) -> Result<Outcome<CompleteResponse>, Error> {
    require("ticket", &request.ticket)?;
    // Authlete needs the subject only when the user authorized the request
    // (jaxrs sends none otherwise).
    if request.result == CompleteResult::Authorized {
        require("subject", &request.subject)?;
    }
    json_object("claims", &request.claims)?;
    json_object("idt_header_params", &request.idt_header_params)?;
    json_object("jwt_at_claims", &request.jwt_at_claims)?;
    exchange(backend, Api::BackchannelAuthenticationComplete, request).await
}

/// What became of a CIBA ping or push notification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The client endpoint's HTTP status; 0 when no response came.
    pub status: u16,
    /// Why delivery failed (connection, timeout, non-2xx); empty on success.
    pub error: String,
}

/// Sends notifications to clients. The HTTP client lives outside `api`.
pub trait Notify: Send + Sync + 'static {
    /// POSTs `body` to `endpoint` with `Authorization: Bearer <token>`.
    fn deliver<'a>(
        &'a self,
        endpoint: &'a str,
        token: &'a str,
        body: &'a str,
    ) -> crate::backend::BoxFuture<'a, Delivery>;
}

/// Delivers the notification a NOTIFICATION reply asks for (ping: the
/// `auth_req_id`; push: the tokens or the error). `None` for other actions.
/// Never retried: a push notification carries tokens.
pub async fn notify(notifier: &dyn Notify, reply: &CompleteResponse) -> Option<Delivery> {
    if reply.action != BackchannelAuthenticationCompleteAction::Notification {
        return None;
    }
    if reply.client_notification_endpoint.is_empty() {
        return Some(Delivery {
            status: 0,
            error: "Authlete gave no client notification endpoint".to_owned(),
        });
    }
    Some(
        notifier
            .deliver(
                &reply.client_notification_endpoint,
                &reply.client_notification_token,
                &reply.response_content,
            )
            .await,
    )
}
