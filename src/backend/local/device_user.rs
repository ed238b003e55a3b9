//! The end-user's side of the device flow (RFC 8628 §3.3):
//! `/device/verification` (what the typed user code stands for) and
//! `/device/complete` (the end-user's decision). A user code works for one
//! decision; the device learns it at its next poll.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::LocalBackend;
use super::authz_issue::required;
use super::device::{self, Approval, Flow, State};
use super::reply::{Fault, Obj};
use super::store::{Inner, Property};

/// `POST /device/verification`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct VerificationRequest {
    user_code: Option<String>,
}

crate::secret::redacted_debug!(VerificationRequest { user_code });

/// `POST /device/complete`. `idtHeaderParams`, `jwtAtClaims` and
/// `idTokenAudType` are not read: the engine's ID tokens have a fixed
/// header, its access tokens are not JWTs, and `aud` is always a string.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct CompleteRequest {
    user_code: Option<String>,
    result: Option<String>,
    subject: Option<String>,
    sub: Option<String>,
    auth_time: Option<i64>,
    acr: Option<String>,
    claims: Option<String>,
    properties: Option<Vec<Property>>,
    scopes: Option<Vec<String>>,
    error_description: Option<String>,
    error_uri: Option<String>,
    consented_claims: Option<Vec<String>>,
    access_token_duration: Option<i64>,
    refresh_token_duration: Option<i64>,
}

crate::secret::redacted_debug!(CompleteRequest {
    user_code,
    result,
    subject,
    sub,
    auth_time,
    acr,
    claims,
    properties,
    scopes,
    error_description,
    error_uri,
    consented_claims,
    access_token_duration,
    refresh_token_duration
});

/// What a user code stands for now.
enum Lookup {
    Missing,
    Expired,
    /// The device code and the flow.
    Live(String, Box<Flow>),
}

fn lookup(store: &Inner, typed: &str, now: i64) -> Lookup {
    let user_code = device::normalize(typed);
    let Some((device_code, _)) = store.user_codes.get(&user_code, now) else {
        return Lookup::Missing;
    };
    match store.device_flows.get(device_code, now) {
        None => Lookup::Missing,
        Some((flow, _)) if flow.expires_at <= now => Lookup::Expired,
        Some((flow, _)) => Lookup::Live(device_code.clone(), Box::new(flow.clone())),
    }
}

pub(super) fn verification(engine: &LocalBackend, r: VerificationRequest) -> Result<Value, Fault> {
    let typed = required(r.user_code, "userCode")?;
    let now = engine.now();
    let found = lookup(&engine.store.lock(), &typed, now);
    Ok(match found {
        Lookup::Missing => Obj::new("NOT_EXIST", "L224202", "The user code does not exist.").done(),
        Lookup::Expired => Obj::new("EXPIRED", "L224201", "The user code has expired.").done(),
        Lookup::Live(_, flow) => {
            let obj = Obj::new("VALID", "L224001", "The user code is valid.")
                .set("expiresAt", flow.expires_at);
            device::described(engine, obj, &flow).done()
        }
    })
}

const SUCCESS: &str = "L241001";
const INVALID: &str = "L241201";

fn invalid(message: &str) -> Value {
    Obj::new("INVALID_REQUEST", INVALID, message).done()
}

pub(super) fn complete(engine: &LocalBackend, r: CompleteRequest) -> Result<Value, Fault> {
    let Some(typed) = r.user_code.clone().filter(|c| !c.is_empty()) else {
        return Ok(invalid("'userCode' is missing."));
    };
    let now = engine.now();
    let mut store = engine.store.lock();
    let (device_code, flow) = match lookup(&store, &typed, now) {
        Lookup::Missing => {
            let message = "The user code does not exist or was already used.";
            return Ok(Obj::new("USER_CODE_NOT_EXIST", "L241203", message).done());
        }
        Lookup::Expired => {
            let message = "The user code has expired.";
            return Ok(Obj::new("USER_CODE_EXPIRED", "L241202", message).done());
        }
        Lookup::Live(code, flow) => (code, flow),
    };
    let state = match decided(engine, &flow.scopes, r) {
        Ok(s) => s,
        Err(message) => return Ok(invalid(message)),
    };
    // One decision per user code: a second one finds no user code.
    store.user_codes.take(&device::normalize(&typed), now);
    store
        .device_flows
        .replace(&device_code, Flow { state, ..*flow });
    Ok(Obj::new(
        "SUCCESS",
        SUCCESS,
        "The API call was processed successfully.",
    )
    .done())
}

/// The state a valid `/device/complete` (or CIBA `/complete`) request moves
/// a flow that requested `requested` to; `Err` says why the request is invalid.
pub(super) fn decided(
    engine: &LocalBackend,
    requested: &[String],
    r: CompleteRequest,
) -> Result<State, &'static str> {
    let (error, default) = match r.result.as_deref() {
        Some("AUTHORIZED") => {
            return approved(engine, requested, r).map(|a| State::Approved(Box::new(a)));
        }
        Some("ACCESS_DENIED") => ("access_denied", "The end-user denied the request."),
        // Authlete: a failed transaction reads as an expired code to the device.
        Some("TRANSACTION_FAILED") => (
            "expired_token",
            "The authorization server could not get the end-user's decision.",
        ),
        _ => return Err("'result' is not AUTHORIZED, ACCESS_DENIED or TRANSACTION_FAILED."),
    };
    Ok(State::Refused {
        error,
        description: r
            .error_description
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| default.to_owned()),
        uri: r.error_uri.unwrap_or_default(),
    })
}

fn approved(
    engine: &LocalBackend,
    requested: &[String],
    r: CompleteRequest,
) -> Result<Approval, &'static str> {
    let subject = r
        .subject
        .filter(|s| !s.is_empty())
        .ok_or("'subject' is required when 'result' is AUTHORIZED.")?;
    let claims = match r.claims.as_deref().filter(|c| !c.is_empty()) {
        None => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            _ => return Err("'claims' is not a JSON object."),
        },
    };
    Ok(Approval {
        subject,
        sub: r.sub.unwrap_or_default(),
        auth_time: r.auth_time.unwrap_or(0),
        acr: r.acr.unwrap_or_default(),
        claims,
        properties: r.properties.unwrap_or_default(),
        scopes: granted_scopes(engine, requested, r.scopes)?,
        consented_claims: r.consented_claims.unwrap_or_default(),
        access_duration: r.access_token_duration.unwrap_or(0),
        refresh_duration: r.refresh_token_duration.unwrap_or(0),
    })
}

/// The requested scopes unless `scopes` replaces them: any supported scope,
/// but `openid` only if it was requested (as `/auth/authorization/issue`).
fn granted_scopes(
    engine: &LocalBackend,
    requested: &[String],
    scopes: Option<Vec<String>>,
) -> Result<Vec<String>, &'static str> {
    let Some(scopes) = scopes else {
        return Ok(requested.to_vec());
    };
    let openid = requested.iter().any(|s| s == "openid");
    let mut out = Vec::new();
    for s in scopes {
        if !engine.scopes.iter().any(|k| k.name == s) {
            return Err("'scopes' names a scope the service does not support.");
        }
        if (s != "openid" || openid) && !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::backend::local::{LocalConfig, ManualClock};

    fn engine() -> LocalBackend {
        let clock = Arc::new(ManualClock::starting_now());
        LocalBackend::with_clock(LocalConfig::default(), clock).unwrap()
    }

    fn flow(engine: &LocalBackend, scopes: &[&str]) -> Flow {
        Flow {
            client: engine.clients.all()[0].clone(),
            alias_used: true,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            claim_names: Vec::new(),
            acrs: Vec::new(),
            resources: Vec::new(),
            expires_at: 1,
            interval_ms: 0,
            last_poll: None,
            state: State::Pending,
        }
    }

    fn request(json: Value) -> CompleteRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn each_result_moves_the_flow_to_its_state() {
        let e = engine();
        let f = flow(&e, &["openid", "email"]);
        let approved = decided(
            &e,
            &f.scopes,
            request(serde_json::json!({
                "result": "AUTHORIZED", "subject": "alice", "claims": "{\"email\":\"a@x\"}"
            })),
        );
        let Ok(State::Approved(a)) = approved else {
            panic!("{approved:?}")
        };
        assert_eq!((a.subject.as_str(), a.scopes.len()), ("alice", 2));
        assert_eq!(a.claims["email"], "a@x");
        let denied = decided(
            &e,
            &f.scopes,
            request(serde_json::json!({"result": "ACCESS_DENIED"})),
        );
        assert!(
            matches!(denied, Ok(State::Refused { error: "access_denied", ref description, .. })
            if description == "The end-user denied the request.")
        );
        let failed = decided(
            &e,
            &f.scopes,
            request(serde_json::json!({
                "result": "TRANSACTION_FAILED", "errorDescription": "timeout", "errorUri": "https://e/x"
            })),
        );
        assert!(
            matches!(failed, Ok(State::Refused { error: "expired_token", ref description, ref uri })
            if description == "timeout" && uri == "https://e/x")
        );
    }

    #[test]
    fn invalid_completions_are_refused() {
        let e = engine();
        let f = flow(&e, &["profile"]);
        for bad in [
            serde_json::json!({"result": "MAYBE"}),
            serde_json::json!({}),
            serde_json::json!({"result": "AUTHORIZED"}),
            serde_json::json!({"result": "AUTHORIZED", "subject": "a", "claims": "[1]"}),
            serde_json::json!({"result": "AUTHORIZED", "subject": "a", "scopes": ["nope"]}),
        ] {
            assert!(
                decided(&e, &f.scopes, request(bad.clone())).is_err(),
                "{bad}"
            );
        }
        // `openid` cannot be added by the completion.
        let scopes = granted_scopes(&e, &f.scopes, Some(vec!["openid".into(), "email".into()]));
        assert_eq!(scopes.unwrap(), ["email"]);
    }
}
