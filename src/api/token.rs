//! The token endpoint: `/auth/token`, `/auth/token/issue` and `/auth/token/fail`.

use serde::Serialize;

use super::{
    Error, Outcome, Property, Sealer, answer, exchange, exchange_carrying, json_object, require,
    wire_reply, wire_request,
};
use crate::action::{self, TokenAction, TokenFailAction, TokenIssueAction};
use crate::api::authorization::CimdOptions;
use crate::backend::{Api, Backend};
use crate::http::EndpointHeaders;

mod flow;

pub use flow::{Decision, Grant, decision, unsupported};

wire_request! {
    /// `POST /auth/token`.
    Request {
        parameters: String,
        ;
        client_id: String,
        client_secret: String,
        client_certificate: String,
        client_certificate_path: Vec<String>,
        properties: Vec<Property>,
        dpop: String,
        htm: String,
        htu: String,
        access_token: String,
        jwt_at_claims: String,
        oauth_client_attestation: String,
        oauth_client_attestation_pop: String,
        access_token_duration: i64,
        refresh_token_duration: i64,
        dpop_nonce_required: bool,
        cimd_options: Option<CimdOptions>,
    }
}

wire_reply! {
    /// Reply of `/auth/token`.
    Response {
        action: TokenAction,
        result_code: String,
        result_message: String,
        response_content: String,
        ticket: String,
        username: String,
        password: String,
        grant_type: String,
        client_id: i64,
        client_id_alias: String,
        client_id_alias_used: bool,
        subject: String,
        scopes: Vec<String>,
        properties: Vec<Property>,
        access_token: String,
        access_token_expires_at: i64,
        access_token_duration: i64,
        refresh_token: String,
        refresh_token_expires_at: i64,
        refresh_token_duration: i64,
        id_token: String,
        jwt_access_token: String,
        resources: Vec<String>,
        access_token_resources: Vec<String>,
        client_auth_method: String,
        grant_id: String,
        audiences: Vec<String>,
        requested_token_type: String,
        subject_token: String,
        subject_token_type: String,
        actor_token: String,
        actor_token_type: String,
        assertion: String,
        previous_refresh_token_used: bool,
        dpop_nonce: String,
        attestation_challenge: String,
        requested_id_token_claims: Vec<String>,
        refresh_token_scopes: Vec<String>,
        session_id: String,
        device_secret: String,
        device_secret_hash: String,
        subject_token_info: Option<TokenInfo>,
        actor_token_info: Option<TokenInfo>,
    }
}

wire_reply! {
    /// What Authlete knows of a token it issued (Authlete `TokenInfo`).
    TokenInfo {
        client_id: i64,
        client_id_alias: String,
        client_id_alias_used: bool,
        subject: String,
        scopes: Vec<ScopeName>,
        expires_at: i64,
        properties: Vec<Property>,
        resources: Vec<String>,
        client_entity_id: String,
        client_entity_id_used: bool,
    }
}

/// A scope of a [`TokenInfo`]: Authlete sends `Scope` objects there (its
/// OpenAPI `token_info`, authlete-java-common `TokenInfo.scopes`), of which
/// the name is what a token carries; a bare name is read too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeName(pub String);

impl<'de> serde::Deserialize<'de> for ScopeName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Either {
            Name(String),
            Scope { name: String },
        }
        Ok(match Either::deserialize(d)? {
            Either::Name(name) | Either::Scope { name } => Self(name),
        })
    }
}

wire_request! {
    /// `POST /auth/token/issue`.
    IssueRequest {
        ticket: String,
        subject: String,
        ;
        properties: Vec<Property>,
        jwt_at_claims: String,
        access_token: String,
        access_token_duration: i64,
        refresh_token_duration: i64,
    }
}

wire_reply! {
    /// Reply of `/auth/token/issue`.
    IssueResponse {
        action: TokenIssueAction,
        result_code: String,
        result_message: String,
        response_content: String,
        access_token: String,
        access_token_expires_at: i64,
        access_token_duration: i64,
        refresh_token: String,
        refresh_token_expires_at: i64,
        refresh_token_duration: i64,
        client_id: i64,
        client_id_alias: String,
        client_id_alias_used: bool,
        subject: String,
        scopes: Vec<String>,
        properties: Vec<Property>,
        jwt_access_token: String,
        access_token_resources: Vec<String>,
    }
}

/// Why a token request fails (Authlete `TokenFailRequest.Reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FailReason {
    #[default]
    Unknown,
    InvalidResourceOwnerCredentials,
    InvalidTarget,
    InvalidClient,
    UnauthorizedClient,
    InvalidScope,
}

wire_request! {
    /// `POST /auth/token/fail`.
    FailRequest {
        ticket: String,
        reason: FailReason,
        ;
    }
}

wire_reply! {
    /// Reply of `/auth/token/fail`.
    FailResponse {
        action: TokenFailAction,
        result_code: String,
        result_message: String,
        response_content: String,
    }
}

answer!(Response => action::token, headers: |r| EndpointHeaders {
    dpop_nonce: Some(r.dpop_nonce.clone()),
    attestation_challenge: Some(r.attestation_challenge.clone()),
});
answer!(IssueResponse => action::token_issue);
answer!(FailResponse => action::token_fail);

/// Processes a token request. For the actions [`decision`] finishes, the
/// outcome carries the continuation it needs.
pub async fn token(
    backend: &dyn Backend,
    request: &Request,
    sealer: &Sealer,
) -> Result<Outcome<Response>, Error> {
    json_object("jwt_at_claims", &request.jwt_at_claims)?;
    let mut outcome: Outcome<Response> = exchange(backend, Api::Token, request).await?;
    outcome.continuation = flow::continuation(&outcome.body, sealer).unwrap_or_default();
    Ok(outcome)
}

/// Issues tokens for a resource owner the web tier authenticated. `carried`
/// are the endpoint headers of the `/auth/token` reply this step continues.
pub async fn issue(
    backend: &dyn Backend,
    request: &IssueRequest,
    carried: &EndpointHeaders,
) -> Result<Outcome<IssueResponse>, Error> {
    require("ticket", &request.ticket)?;
    require("subject", &request.subject)?;
    json_object("jwt_at_claims", &request.jwt_at_claims)?;
    exchange_carrying(backend, Api::TokenIssue, request, Some(carried)).await
}

/// Builds the error response for a failed token request. `carried` as for [`issue`].
pub async fn fail(
    backend: &dyn Backend,
    request: &FailRequest,
    carried: &EndpointHeaders,
) -> Result<Outcome<FailResponse>, Error> {
    require("ticket", &request.ticket)?;
    exchange_carrying(backend, Api::TokenFail, request, Some(carried)).await
}

#[cfg(test)]
mod tests {
    use super::{ScopeName, TokenInfo};

    #[test]
    fn token_info_scopes_are_read_as_scope_objects_or_names() {
        let json =
            r#"{"scopes": [{"name": "read", "defaultEntry": false}, "write"], "clientId": 7}"#;
        let info: TokenInfo = serde_json::from_str(json).unwrap();
        assert_eq!(
            info.scopes,
            [ScopeName("read".into()), ScopeName("write".into())]
        );
        assert!(serde_json::from_str::<TokenInfo>(r#"{"scopes": [{"nom": "x"}]}"#).is_err());
    }
}
