//! The authorization endpoint: `/auth/authorization`, `/auth/authorization/issue`
//! and `/auth/authorization/fail`.

use serde::Serialize;

use super::{
    Error, JsonObject, Outcome, Property, Sealer, answer, exchange, json_object, json_objects,
    require, wire_reply, wire_request,
};
use crate::action::{self, AuthorizationAction, AuthorizationResultAction};
use crate::backend::{Api, Backend};

mod flow;
pub mod ticket;

pub use flow::{Approval, Decision, Session, decision};

/// Client ID Metadata Document options (Authlete `cimdOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CimdOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_retrieved: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_permitted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_permitted: Option<bool>,
}

wire_request! {
    /// `POST /auth/authorization`.
    Request {
        parameters: String,
        ;
        context: String,
        cimd_options: Option<CimdOptions>,
    }
}

wire_reply! {
    /// A value tagged with a language.
    TaggedValue { tag: String, value: String, }
}

wire_reply! {
    /// A scope (Authlete `Scope`).
    Scope {
        name: String,
        default_entry: bool,
        description: String,
        descriptions: Vec<TaggedValue>,
        attributes: Vec<super::Pair>,
    }
}

wire_reply! {
    /// A dynamic scope (Authlete `DynamicScope`).
    DynamicScope { name: String, value: String, }
}

wire_reply! {
    /// The client data shown on a consent page (Authlete `Client`, in part).
    Client {
        client_id: i64,
        client_id_alias: String,
        client_id_alias_enabled: bool,
        client_name: String,
        client_names: Vec<TaggedValue>,
        description: String,
        descriptions: Vec<TaggedValue>,
        client_type: String,
        logo_uri: String,
        logo_uris: Vec<TaggedValue>,
        tos_uri: String,
        tos_uris: Vec<TaggedValue>,
        policy_uri: String,
        policy_uris: Vec<TaggedValue>,
        entity_id: String,
    }
}

wire_reply! {
    /// Reply of `/auth/authorization`.
    Response {
        action: AuthorizationAction,
        result_code: String,
        result_message: String,
        response_content: String,
        ticket: String,
        client: Option<Client>,
        display: String,
        max_age: i64,
        scopes: Vec<Scope>,
        dynamic_scopes: Vec<DynamicScope>,
        ui_locales: Vec<String>,
        claims_locales: Vec<String>,
        claims: Vec<String>,
        claims_at_user_info: Vec<String>,
        acr_essential: bool,
        client_id_alias_used: bool,
        acrs: Vec<String>,
        subject: String,
        login_hint: String,
        prompts: Vec<String>,
        lowest_prompt: String,
        request_object_payload: String,
        id_token_claims: String,
        user_info_claims: String,
        resources: Vec<String>,
        authorization_details: Option<JsonObject>,
        purpose: String,
        gm_action: String,
        grant_id: String,
        grant_subject: String,
        requested_claims_for_tx: Vec<String>,
        requested_verified_claims_for_tx: Vec<serde_json::Value>,
        transformed_claims: String,
        client_entity_id_used: bool,
        issuable_credentials: String,
        native_sso_requested: bool,
        metadata_document_used: bool,
    }
}

wire_request! {
    /// `POST /auth/authorization/issue`.
    IssueRequest {
        ticket: String,
        subject: String,
        ;
        auth_time: i64,
        acr: String,
        claims: String,
        properties: Vec<Property>,
        scopes: Vec<String>,
        sub: String,
        idt_header_params: String,
        claims_for_tx: String,
        consented_claims: Vec<String>,
        authorization_details: Option<JsonObject>,
        jwt_at_claims: String,
        access_token: String,
        access_token_duration: i64,
        session_id: String,
        id_token_aud_type: String,
        verified_claims_for_tx: Vec<String>,
    }
}

wire_reply! {
    /// Reply of `/auth/authorization/issue`.
    IssueResponse {
        action: AuthorizationResultAction,
        result_code: String,
        result_message: String,
        response_content: String,
        access_token: String,
        access_token_expires_at: i64,
        access_token_duration: i64,
        id_token: String,
        authorization_code: String,
        jwt_access_token: String,
    }
}

/// Why an authorization request fails (Authlete `AuthorizationFailRequest.Reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FailReason {
    #[default]
    Unknown,
    NotLoggedIn,
    MaxAgeNotSupported,
    ExceedsMaxAge,
    DifferentSubject,
    AcrNotSatisfied,
    Denied,
    ServerError,
    NotAuthenticated,
    AccountSelectionRequired,
    ConsentRequired,
    InteractionRequired,
    InvalidTarget,
    InvalidScope,
    UnauthorizedClient,
    TemporarilyUnavailable,
}

wire_request! {
    /// `POST /auth/authorization/fail`.
    FailRequest {
        ticket: String,
        reason: FailReason,
        ;
        description: String,
    }
}

wire_reply! {
    /// Reply of `/auth/authorization/fail`.
    FailResponse {
        action: AuthorizationResultAction,
        result_code: String,
        result_message: String,
        response_content: String,
    }
}

answer!(Response => action::authorization);
answer!(IssueResponse => action::authorization_result);
answer!(FailResponse => action::authorization_result);

/// Parses an authorization request. On INTERACTION the outcome carries the
/// continuation for [`decision`]; on NO_INTERACTION the service finishes the
/// flow from `session` (nobody logged in when `None`) and the outcome's `http`
/// is the final response.
pub async fn authorization(
    backend: &dyn Backend,
    request: &Request,
    session: Option<&Session>,
    sealer: &Sealer,
) -> Result<Outcome<Response>, Error> {
    if let Some(session) = session {
        flow::check_session(session)?;
    }
    let mut outcome: Outcome<Response> = exchange(backend, Api::Authorization, request).await?;
    match outcome.body.action {
        AuthorizationAction::Interaction => {
            outcome.continuation = flow::continuation(&outcome.body, sealer)
        }
        AuthorizationAction::NoInteraction => {
            let finished =
                flow::no_interaction(backend, &outcome.body, session, flow::now()).await?;
            outcome.http = Some(finished.http);
            outcome.completion = Some(finished.completion);
        }
        _ => {}
    }
    Ok(outcome)
}

/// Issues the authorization response.
pub async fn issue(
    backend: &dyn Backend,
    request: &IssueRequest,
) -> Result<Outcome<IssueResponse>, Error> {
    require("ticket", &request.ticket)?;
    require("subject", &request.subject)?;
    json_object("claims", &request.claims)?;
    json_object("idt_header_params", &request.idt_header_params)?;
    json_object("claims_for_tx", &request.claims_for_tx)?;
    json_object("jwt_at_claims", &request.jwt_at_claims)?;
    json_objects("verified_claims_for_tx", &request.verified_claims_for_tx)?;
    exchange(backend, Api::AuthorizationIssue, request).await
}

/// Builds the error response for a failed authorization request.
pub async fn fail(
    backend: &dyn Backend,
    request: &FailRequest,
) -> Result<Outcome<FailResponse>, Error> {
    require("ticket", &request.ticket)?;
    exchange(backend, Api::AuthorizationFail, request).await
}
