//! The second step the service finishes for the device flow: after
//! `/device/verification` answers VALID and the web tier has asked the user,
//! it sends the verdict and the user's profile; the service picks the
//! requested claims and calls `/device/complete` (action-mapping.md 3.5).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{CompleteRequest, CompleteResponse, VerificationResponse, complete};
use crate::action::DeviceVerificationAction;
use crate::api::backchannel::CompleteResult;
use crate::api::{Error, Outcome, Property, Sealer, claims};

const KIND: &str = "device";
/// The user code lives minutes; a consent page should not outlast it by much.
const LIFETIME: Duration = Duration::from_secs(1800);

/// What the decision step needs from the verification reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct State {
    user_code: String,
    claim_names: Vec<String>,
}

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

/// The end-user's verdict, in the web tier's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The user logged in and approved.
    Approved(Box<Approval>),
    /// The user denied (`AccessDenied`) or the transaction failed.
    Denied {
        result: CompleteResult,
        error_description: String,
        error_uri: String,
    },
}

/// An approval: who, how they authenticated, and their profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approval {
    pub subject: String,
    pub auth_time: i64,
    pub acr: String,
    /// The user's whole profile as a JSON object; the requested claims are picked from it.
    pub claims: String,
    pub scopes: Vec<String>,
    pub properties: Vec<Property>,
    pub sub: String,
}

/// Finishes the verification the continuation describes.
pub async fn decision(
    backend: &dyn crate::backend::Backend,
    sealer: &Sealer,
    continuation: &str,
    decision: Decision,
) -> Result<Outcome<CompleteResponse>, Error> {
    let state: State = sealer.open(KIND, continuation)?;
    let request = match decision {
        Decision::Approved(a) => {
            crate::api::require("subject", &a.subject)?;
            let profile = claims::profile("claims", &a.claims)?;
            // Device flow requests carry no claims locales.
            let picked = claims::select(&state.claim_names, &[], &profile);
            CompleteRequest {
                user_code: state.user_code,
                result: CompleteResult::Authorized,
                subject: a.subject,
                sub: a.sub,
                auth_time: a.auth_time,
                acr: a.acr,
                claims: if picked.is_empty() {
                    String::new()
                } else {
                    claims::to_text(&picked)
                },
                scopes: a.scopes,
                properties: a.properties,
                ..CompleteRequest::default()
            }
        }
        Decision::Denied {
            result,
            error_description,
            error_uri,
        } => {
            if result == CompleteResult::Authorized {
                return Err(Error::InvalidArgument {
                    field: "denied.result",
                    reason: "must be ACCESS_DENIED or TRANSACTION_FAILED".to_owned(),
                });
            }
            CompleteRequest {
                user_code: state.user_code,
                result,
                error_description,
                error_uri,
                ..CompleteRequest::default()
            }
        }
    };
    complete(backend, &request).await
}
