//! The revocation endpoint (RFC 7009): `/auth/revocation`.

use super::{Error, Outcome, answer, exchange, wire_reply, wire_request};
use crate::action::{self, RevocationAction};
use crate::backend::{Api, Backend};
use crate::http::EndpointHeaders;

wire_request! {
    /// `POST /auth/revocation`.
    Request {
        parameters: String,
        ;
        client_id: String,
        client_secret: String,
        client_certificate: String,
        client_certificate_path: Vec<String>,
        oauth_client_attestation: String,
        oauth_client_attestation_pop: String,
    }
}

wire_reply! {
    /// Reply of `/auth/revocation`.
    Response {
        action: RevocationAction,
        result_code: String,
        result_message: String,
        response_content: String,
        attestation_challenge: String,
    }
}

// Revocation replies carry no DPoP nonce: only the attestation challenge.
answer!(Response => action::revocation, headers: |r| EndpointHeaders {
    dpop_nonce: None,
    attestation_challenge: Some(r.attestation_challenge.clone()),
});

/// Revokes a token.
pub async fn revocation(
    backend: &dyn Backend,
    request: &Request,
) -> Result<Outcome<Response>, Error> {
    exchange(backend, Api::Revocation, request).await
}
