//! The second step the service finishes for the device flow: after
//! `/device/verification` answers VALID and the web tier has asked the user,
//! it sends the verdict and the user's profile; the service picks the
//! requested claims and calls `/device/complete` (action-mapping.md 3.5).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{CompleteRequest, CompleteResponse, VerificationResponse, complete};
use crate::action::DeviceVerificationAction;
use crate::api::verdict::{Decision, verdict};
use crate::api::{Error, Outcome, Sealer};

const KIND: &str = "device";
/// The user code lives minutes; a consent page should not outlast it by much.
const LIFETIME: Duration = Duration::from_secs(1800);

/// What the decision step needs from the verification reply.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct State {
    user_code: String,
    claim_names: Vec<String>,
}

crate::secret::redacted_debug!(State {
    user_code,
    claim_names
});

/// The continuation of a VALID reply; `None` for other actions.
pub(super) fn continuation(
    user_code: &str,
    reply: &VerificationResponse,
    sealer: &Sealer,
) -> Option<String> {
    (reply.action == DeviceVerificationAction::Valid).then(|| {
        let state = State {
            user_code: user_code.to_owned(),
            claim_names: reply.claim_names.clone(),
        };
        sealer.seal(KIND, state, LIFETIME)
    })
}

/// Finishes the verification the continuation describes.
pub async fn decision(
    backend: &dyn crate::backend::Backend,
    sealer: &Sealer,
    continuation: &str,
    decision: Decision,
) -> Result<Outcome<CompleteResponse>, Error> {
    let state: State = sealer.open(KIND, continuation)?;
    let v = verdict(decision, &state.claim_names)?;
    let request = CompleteRequest {
        user_code: state.user_code,
        result: v.result,
        subject: v.subject,
        sub: v.sub,
        auth_time: v.auth_time,
        acr: v.acr,
        claims: v.claims,
        scopes: v.scopes,
        properties: v.properties,
        error_description: v.error_description,
        error_uri: v.error_uri,
        ..CompleteRequest::default()
    };
    complete(backend, &request).await
}
