//! The pushed authorization request endpoint (RFC 9126): `/pushed_auth_req`.

use super::{Error, Outcome, answer, exchange, wire_reply, wire_request};
use crate::action::{self, PushedAuthorizationAction};
use crate::backend::{Api, Backend};
use crate::http::EndpointHeaders;

wire_request! {
    /// `POST /pushed_auth_req`.
    Request {
        parameters: String,
        ;
        client_id: String,
        client_secret: String,
        client_certificate: String,
        client_certificate_path: Vec<String>,
        dpop: String,
        htm: String,
        htu: String,
        oauth_client_attestation: String,
        oauth_client_attestation_pop: String,
        dpop_nonce_required: bool,
    }
}

wire_reply! {
    /// Reply of `/pushed_auth_req`.
    Response {
        action: PushedAuthorizationAction,
        result_code: String,
        result_message: String,
        response_content: String,
        request_uri: String,
        client_auth_method: String,
        dpop_nonce: String,
        attestation_challenge: String,
    }
}

answer!(Response => action::pushed_authorization, headers: |r| EndpointHeaders {
    dpop_nonce: Some(r.dpop_nonce.clone()),
    attestation_challenge: Some(r.attestation_challenge.clone()),
});

/// Registers a pushed authorization request.
pub async fn pushed_authorization(
    backend: &dyn Backend,
    request: &Request,
) -> Result<Outcome<Response>, Error> {
    exchange(backend, Api::PushedAuthorization, request).await
}
