//! The steps the service finishes for CIBA (action-mapping.md 3.4). After
//! USER_IDENTIFICATION, the web tier says who the hint names and what it
//! checked; the service runs the documented checks and calls
//! `/backchannel/authentication/issue` or `/fail`. Once the user has decided
//! on their authentication device, the web tier sends the verdict and the
//! user's profile; the service picks the requested claims and calls
//! `/backchannel/authentication/complete`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    CompleteRequest, CompleteResponse, FailReason, FailRequest, IssueRequest, Response, complete,
    fail, issue,
};
use crate::action::{BackchannelAuthenticationAction, BackchannelAuthenticationIssueAction};
use crate::api::verdict::{Decision, verdict};
use crate::api::{Error, Finished, Outcome, Sealer, wire_name};
use crate::backend::{Api, Backend};

const KIND: &str = "backchannel";
/// As long as an authorization continuation: the user may take a while to be found.
const LIFETIME: Duration = Duration::from_secs(3600);
const KIND_IDENTIFIED: &str = "backchannel-identified";
/// When Authlete does not say how long the `auth_req_id` lives.
const DEFAULT_REQUEST_LIFETIME: i64 = 600;

/// What the decision step needs from the first reply.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct State {
    ticket: String,
    hint_type: String,
    user_code_required: bool,
    binding_message: String,
    claim_names: Vec<String>,
}

crate::secret::redacted_debug!(State {
    ticket,
    hint_type,
    user_code_required,
    binding_message,
    claim_names
});

/// What the completion needs once the user is identified and the request
/// issued: the ticket, who was identified, and the requested claims.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Identified {
    ticket: String,
    subject: String,
    claim_names: Vec<String>,
}

crate::secret::redacted_debug!(Identified {
    ticket,
    subject,
    claim_names
});

/// The continuation of a USER_IDENTIFICATION reply; `None` for other actions.
pub(super) fn continuation(reply: &Response, sealer: &Sealer) -> Option<String> {
    (reply.action == BackchannelAuthenticationAction::UserIdentification).then(|| {
        let state = State {
            ticket: reply.ticket.clone(),
            hint_type: reply.hint_type.clone(),
            user_code_required: reply.user_code_required,
            binding_message: reply.binding_message.clone(),
            claim_names: reply.claim_names.clone(),
        };
        sealer.seal(KIND, state, LIFETIME)
    })
}

/// The web tier's answer, in its own terms. The checks fail closed: a flag
/// left unset means "not verified".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identification {
    /// The subject of the user the hint names; empty when nobody matches.
    pub subject: String,
    /// The `login_hint_token` has expired (only read for that hint type).
    pub login_hint_token_expired: bool,
    /// The user code matches the user's (only read when it is required).
    pub user_code_verified: bool,
    /// The binding message can be shown (only read when there is one).
    pub binding_message_accepted: bool,
}

/// The first failed check, in the order of authlete-java-jaxrs.
fn check(state: &State, id: &Identification) -> Option<FailReason> {
    if id.subject.trim().is_empty() {
        return Some(FailReason::UnknownUserId);
    }
    if state.hint_type == "LOGIN_HINT_TOKEN" && id.login_hint_token_expired {
        return Some(FailReason::ExpiredLoginHintToken);
    }
    if state.user_code_required && !id.user_code_verified {
        return Some(FailReason::InvalidUserCode);
    }
    if !state.binding_message.is_empty() && !id.binding_message_accepted {
        return Some(FailReason::InvalidBindingMessage);
    }
    None
}

/// Finishes the request the continuation describes: issue or fail. After a
/// successful issue, also the continuation of the completion, valid as long
/// as the `auth_req_id`.
pub async fn decision(
    backend: &dyn Backend,
    sealer: &Sealer,
    continuation: &str,
    id: &Identification,
) -> Result<(Finished, Option<String>), Error> {
    let state: State = sealer.open(KIND, continuation)?;
    if let Some(reason) = check(&state, id) {
        let request = FailRequest {
            ticket: state.ticket,
            reason,
            ..FailRequest::default()
        };
        let outcome = fail(backend, &request).await?;
        let api = Api::BackchannelAuthenticationFail;
        return Ok((
            Finished::from_outcome(api, &wire_name(&reason), outcome),
            None,
        ));
    }
    let request = IssueRequest {
        ticket: state.ticket.clone(),
    };
    let outcome = issue(backend, &request).await?;
    let next = (outcome.body.action == BackchannelAuthenticationIssueAction::Ok).then(|| {
        let identified = Identified {
            ticket: state.ticket,
            subject: id.subject.clone(),
            claim_names: state.claim_names,
        };
        let seconds = match outcome.body.expires_in {
            s if s > 0 => s,
            _ => DEFAULT_REQUEST_LIFETIME,
        };
        let lifetime = Duration::from_secs(seconds.unsigned_abs());
        sealer.seal(KIND_IDENTIFIED, identified, lifetime)
    });
    let api = Api::BackchannelAuthenticationIssue;
    Ok((Finished::from_outcome(api, "", outcome), next))
}

/// Completes the request with the user's verdict. The user is the one the
/// hint named: an approval naming someone else is refused.
pub async fn user_decision(
    backend: &dyn Backend,
    sealer: &Sealer,
    continuation: &str,
    mut decision: Decision,
) -> Result<Outcome<CompleteResponse>, Error> {
    let state: Identified = sealer.open(KIND_IDENTIFIED, continuation)?;
    if let Decision::Approved(a) = &mut decision {
        if a.subject.is_empty() {
            a.subject = state.subject.clone();
        } else if a.subject != state.subject {
            return Err(Error::InvalidArgument {
                field: "approved.subject",
                reason: "differs from the user the request identified".to_owned(),
            });
        }
    }
    let v = verdict(decision, &state.claim_names)?;
    let request = CompleteRequest {
        ticket: state.ticket,
        result: v.result,
        // jaxrs sends the subject with every verdict; the API requires it.
        subject: state.subject,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn state(hint_type: &str, user_code_required: bool, binding_message: &str) -> State {
        State {
            ticket: "t".into(),
            hint_type: hint_type.into(),
            user_code_required,
            binding_message: binding_message.into(),
            claim_names: Vec::new(),
        }
    }

    fn found() -> Identification {
        Identification {
            subject: "john".into(),
            ..Identification::default()
        }
    }

    #[test]
    fn the_checks_run_in_the_documented_order() {
        let all = state("LOGIN_HINT_TOKEN", true, "bind");
        let nobody = Identification {
            login_hint_token_expired: true,
            ..Identification::default()
        };
        assert_eq!(check(&all, &nobody), Some(FailReason::UnknownUserId));
        let expired = Identification {
            login_hint_token_expired: true,
            ..found()
        };
        assert_eq!(
            check(&all, &expired),
            Some(FailReason::ExpiredLoginHintToken)
        );
        assert_eq!(check(&all, &found()), Some(FailReason::InvalidUserCode));
        let code = Identification {
            user_code_verified: true,
            ..found()
        };
        assert_eq!(check(&all, &code), Some(FailReason::InvalidBindingMessage));
        let everything = Identification {
            binding_message_accepted: true,
            ..code
        };
        assert_eq!(check(&all, &everything), None);
    }

    #[test]
    fn checks_apply_only_when_the_request_asks_for_them() {
        let plain = state("LOGIN_HINT", false, "");
        let expired = Identification {
            login_hint_token_expired: true,
            ..found()
        };
        assert_eq!(check(&plain, &expired), None);
        assert_eq!(check(&plain, &found()), None);
    }
}
