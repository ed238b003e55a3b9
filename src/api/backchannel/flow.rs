//! The second step the service finishes for CIBA: after USER_IDENTIFICATION,
//! the web tier says who the hint names and what it checked; the service
//! runs the documented checks (action-mapping.md 3.4) and calls
//! `/backchannel/authentication/issue` or `/fail`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{FailReason, FailRequest, IssueRequest, Response, fail, issue};
use crate::action::BackchannelAuthenticationAction;
use crate::api::{Error, Finished, Sealer, wire_name};
use crate::backend::{Api, Backend};

const KIND: &str = "backchannel";
/// As long as an authorization continuation: the user may take a while to be found.
const LIFETIME: Duration = Duration::from_secs(3600);

/// What the decision step needs from the first reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct State {
    ticket: String,
    hint_type: String,
    user_code_required: bool,
    binding_message: String,
}

/// The continuation of a USER_IDENTIFICATION reply; `None` for other actions.
pub(super) fn continuation(reply: &Response, sealer: &Sealer) -> Option<String> {
    (reply.action == BackchannelAuthenticationAction::UserIdentification).then(|| {
        let state = State {
            ticket: reply.ticket.clone(),
            hint_type: reply.hint_type.clone(),
            user_code_required: reply.user_code_required,
            binding_message: reply.binding_message.clone(),
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

/// Finishes the request the continuation describes: issue or fail.
pub async fn decision(
    backend: &dyn Backend,
    sealer: &Sealer,
    continuation: &str,
    id: &Identification,
) -> Result<Finished, Error> {
    let state: State = sealer.open(KIND, continuation)?;
    match check(&state, id) {
        None => {
            let request = IssueRequest {
                ticket: state.ticket,
            };
            let outcome = issue(backend, &request).await?;
            Ok(Finished::from_outcome(
                Api::BackchannelAuthenticationIssue,
                "",
                outcome,
            ))
        }
        Some(reason) => {
            let request = FailRequest {
                ticket: state.ticket,
                reason,
                ..FailRequest::default()
            };
            let outcome = fail(backend, &request).await?;
            Ok(Finished::from_outcome(
                Api::BackchannelAuthenticationFail,
                &wire_name(&reason),
                outcome,
            ))
        }
    }
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
