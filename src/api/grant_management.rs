//! The grant management endpoint (FAPI Grant Management for OAuth 2.0): `/gm`.

use serde::Serialize;

use super::{Error, Outcome, answer, exchange, require, wire_reply, wire_request};
use crate::action::{self, GrantManagementAction};
use crate::backend::{Api, Backend};
use crate::http::EndpointHeaders;

/// What the request does to the grant: GET is QUERY, DELETE is REVOKE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GmAction {
    Create,
    #[default]
    Query,
    Replace,
    Revoke,
    Merge,
}

wire_request! {
    /// `POST /gm`.
    Request {
        gm_action: GmAction,
        grant_id: String,
        ;
        access_token: String,
        client_certificate: String,
        dpop: String,
        htm: String,
        htu: String,
        dpop_nonce_required: bool,
    }
}

wire_reply! {
    /// Reply of `/gm`.
    Response {
        action: GrantManagementAction,
        result_code: String,
        result_message: String,
        response_content: String,
        dpop_nonce: String,
    }
}

answer!(Response => action::grant_management, headers: |r| EndpointHeaders {
    dpop_nonce: Some(r.dpop_nonce.clone()),
    attestation_challenge: None,
});

/// Queries or revokes a grant.
pub async fn grant_management(
    backend: &dyn Backend,
    request: &Request,
) -> Result<Outcome<Response>, Error> {
    require("grant_id", &request.grant_id)?;
    exchange(backend, Api::GrantManagement, request).await
}
