//! The userinfo step the service finishes itself (authlete-java-jaxrs
//! `UserInfoRequestHandler`): pick the requested claims out of the end-user's
//! profile and call `/auth/userinfo/issue`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{IssueRequest, Response, issue};
use crate::api::{Error, Finished, Sealer, claims};
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
}

crate::secret::redacted_debug!(State {
    token,
    claims,
    claims_for_tx,
    dpop_nonce
});

/// The second step follows within the client's own userinfo request.
const LIFETIME: Duration = Duration::from_secs(300);

pub(super) fn continuation(reply: &Response, sealer: &Sealer) -> String {
    let state = State {
        token: reply.token.clone(),
        claims: reply.claims.clone(),
        claims_for_tx: reply.requested_claims_for_tx.clone(),
        dpop_nonce: reply.dpop_nonce.clone(),
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
    let request = IssueRequest {
        token: state.token,
        claims: claims::to_text(&claims::select(&state.claims, &[], &profile)),
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
