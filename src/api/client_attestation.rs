//! Attestation-based client authentication: `/attestation/challenge`, the
//! answer of the authorization server's challenge endpoint.

use super::{Error, Outcome, answer, exchange, wire_reply, wire_request};
use crate::action::{self, AttestationChallengeAction};
use crate::backend::{Api, Backend};

wire_request! {
    /// `POST /attestation/challenge`.
    ChallengeRequest { ; pretty: bool, }
}

wire_reply! {
    /// Reply of `/attestation/challenge`.
    ChallengeResponse {
        action: AttestationChallengeAction,
        result_code: String,
        result_message: String,
        response_content: String,
        attestation_challenge: String,
    }
}

answer!(ChallengeResponse => action::attestation_challenge);

/// Asks Authlete for a fresh `attestation_challenge`.
pub async fn challenge(
    backend: &dyn Backend,
    request: &ChallengeRequest,
) -> Result<Outcome<ChallengeResponse>, Error> {
    exchange(backend, Api::AttestationChallenge, request).await
}
