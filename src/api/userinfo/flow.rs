//! The userinfo step the service finishes itself (authlete-java-jaxrs
//! `UserInfoRequestHandler`): pick the requested claims out of the end-user's
//! profile and call `/auth/userinfo/issue`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{IssueRequest, Response, issue};
use crate::api::{Error, Finished, Sealer, claims, verified_claims};
use crate::backend::{Api, Backend};
use crate::http::EndpointHeaders;

/// The claims the web tier releases for the token's subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Release {
    /// The end-user's claim values, a JSON object.
    pub claims: String,
    /// The `sub` value to use in place of the subject.
    pub sub: String,
}

const KIND: &str = "userinfo";

/// What the issue step needs from the `/auth/userinfo` reply.
#[derive(Serialize, Deserialize)]
struct State {
    token: String,
    #[serde(default)]
    claims: Vec<String>,
    #[serde(default)]
    claims_for_tx: Vec<String>,
    #[serde(default)]
    dpop_nonce: String,
    /// The `userinfo` part of the `claims` parameter, for `verified_claims`.
    #[serde(default)]
    user_info_claims: String,
    #[serde(default)]
    verified_claims_for_tx: Vec<serde_json::Value>,
}

crate::secret::redacted_debug!(State {
    token,
    claims,
    claims_for_tx,
    dpop_nonce,
    user_info_claims,
    verified_claims_for_tx
});

/// The second step follows within the client's own userinfo request.
const LIFETIME: Duration = Duration::from_secs(300);

pub(super) fn continuation(reply: &Response, sealer: &Sealer) -> String {
    let state = State {
        token: reply.token.clone(),
        claims: reply.claims.clone(),
        claims_for_tx: reply.requested_claims_for_tx.clone(),
        dpop_nonce: reply.dpop_nonce.clone(),
        user_info_claims: reply.user_info_claims.clone(),
        verified_claims_for_tx: reply.requested_verified_claims_for_tx.clone(),
    };
    sealer.seal(KIND, state, LIFETIME)
}

/// Builds the userinfo response from the released claims. Unlike the
/// authorization step there is no claims-locales fallback here: a tag comes
/// only from the requested name, as in authlete-java-jaxrs.
pub async fn decision(
    backend: &dyn Backend,
    sealer: &Sealer,
    continuation: &str,
    release: &Release,
) -> Result<Finished, Error> {
    let state: State = sealer.open(KIND, continuation)?;
    let profile = claims::profile("claims", &release.claims)?;
    let verified = verified_claims::collect(
        &state.user_info_claims,
        &profile,
        &state.verified_claims_for_tx,
    );
    let selected = claims::select(&state.claims, &[], &profile);
    let request = IssueRequest {
        token: state.token,
        claims: claims::to_text(&verified_claims::merge(selected, &verified)),
        verified_claims_for_tx: verified.for_tx,
        claims_for_tx: claims::to_text(&claims::select(&state.claims_for_tx, &[], &profile)),
        sub: release.sub.clone(),
        ..IssueRequest::default()
    };
    let carried = EndpointHeaders {
        dpop_nonce: Some(state.dpop_nonce),
        attestation_challenge: None,
    };
    let outcome = issue(backend, &request, &carried).await?;
    Ok(Finished::from_outcome(Api::UserInfoIssue, "", outcome))
}
