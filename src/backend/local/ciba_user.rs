//! The authorization server's side of CIBA after `/backchannel/authentication`:
//! `/backchannel/authentication/issue` (the user was identified: the
//! `auth_req_id` for the client), `/fail` (the error for the client) and
//! `/complete` (the end-user's decision on their authentication device; in
//! the ping mode the reply says where to notify the client). A ticket is
//! issued or failed once, and takes one decision.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::LocalBackend;
use super::authz_issue::required;
use super::ciba::Flow;
use super::ciba_client::DeliveryMode;
use super::device::State;
use super::device_user::{self, decided};
use super::jwt::random_token;
use super::reply::{self, Fault, Obj};

/// `POST /backchannel/authentication/issue`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct IssueRequest {
    ticket: Option<String>,
}

crate::secret::redacted_debug!(IssueRequest { ticket });

/// `POST /backchannel/authentication/fail`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct FailRequest {
    ticket: Option<String>,
    reason: Option<String>,
    error_description: Option<String>,
    error_uri: Option<String>,
}

crate::secret::redacted_debug!(FailRequest {
    ticket,
    reason,
    error_description,
    error_uri
});

/// `POST /backchannel/authentication/complete`: the ticket and the members
/// `/device/complete` takes (the same decision, read the same way).
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct CompleteRequest {
    ticket: Option<String>,
    #[serde(flatten)]
    decision: device_user::CompleteRequest,
}

crate::secret::redacted_debug!(CompleteRequest { ticket, decision });

const ISSUED: &str = "L183001";
const INVALID_TICKET: &str = "L183201";

fn invalid_ticket(message: &str) -> Value {
    reply::json_error("INVALID_TICKET", INVALID_TICKET, "server_error", message)
}

pub(super) fn issue(engine: &LocalBackend, r: IssueRequest) -> Result<Value, Fault> {
    let ticket = required(r.ticket, "ticket")?;
    let now = engine.now();
    let mut store = engine.store.lock();
    let Some((flow, _)) = store.backchannel.get(&ticket, now) else {
        return Ok(invalid_ticket("The ticket is unknown or has expired."));
    };
    if !flow.auth_req_id.is_empty() {
        return Ok(invalid_ticket(
            "The ticket has already been issued an auth_req_id.",
        ));
    }
    let mut flow = flow.clone();
    let configured = engine.config.lifetimes.auth_req_id;
    // requested_expiry is a request (CIBA Core §7.1): never past the setting.
    let lifetime = match flow.requested_expiry {
        n if n > 0 => n.min(configured),
        _ => configured,
    };
    let id = random_token()?;
    flow.auth_req_id = id.clone();
    flow.expires_at = engine.expiry(now, lifetime);
    flow.kept_until = engine.expiry(flow.expires_at, lifetime);
    store.room(now, 2 * id.len() + ticket.len())?;
    let weight = flow.weight();
    let until = flow.kept_until;
    store
        .backchannel
        .insert(ticket.clone(), flow.clone(), until, weight);
    let bytes = ticket.len();
    store.auth_req_ids.insert(id.clone(), ticket, until, bytes);
    drop(store);
    let interval = flow.interval_ms / 1000;
    let mut content = Map::new();
    content.insert("auth_req_id".into(), id.clone().into());
    content.insert("expires_in".into(), lifetime.into());
    if interval > 0 {
        content.insert("interval".into(), interval.into());
    }
    Ok(
        Obj::new("OK", ISSUED, "An auth_req_id was issued successfully.")
            .set("responseContent", Value::Object(content).to_string())
            .set("authReqId", id)
            .set("expiresIn", lifetime)
            .set("interval", interval)
            .done(),
    )
}

/// A fail reason: the action, the OAuth error, and the result code.
fn reason(name: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match name {
        "ACCESS_DENIED" => ("FORBIDDEN", "access_denied", "L185003"),
        "SERVER_ERROR" => ("INTERNAL_SERVER_ERROR", "server_error", "L185002"),
        "EXPIRED_LOGIN_HINT_TOKEN" => ("BAD_REQUEST", "expired_login_hint_token", "L185001"),
        "UNKNOWN_USER_ID" => ("BAD_REQUEST", "unknown_user_id", "L185001"),
        "UNAUTHORIZED_CLIENT" => ("BAD_REQUEST", "unauthorized_client", "L185001"),
        "MISSING_USER_CODE" => ("BAD_REQUEST", "missing_user_code", "L185001"),
        "INVALID_USER_CODE" => ("BAD_REQUEST", "invalid_user_code", "L185001"),
        "INVALID_BINDING_MESSAGE" => ("BAD_REQUEST", "invalid_binding_message", "L185001"),
        "INVALID_TARGET" => ("BAD_REQUEST", "invalid_target", "L185001"),
        _ => return None,
    })
}

pub(super) fn fail(engine: &LocalBackend, r: FailRequest) -> Result<Value, Fault> {
    let ticket = required(r.ticket, "ticket")?;
    let name = required(r.reason, "reason")?;
    let (action, error, code) = reason(&name)
        .ok_or_else(|| Fault::Caller("'reason' is not a reason this API knows.".to_owned()))?;
    let now = engine.now();
    let mut store = engine.store.lock();
    let issued = store
        .backchannel
        .get(&ticket, now)
        .map(|(flow, _)| !flow.auth_req_id.is_empty());
    match issued {
        None => return Ok(no_ticket("The ticket is unknown, used or expired.")),
        Some(true) => {
            let message = "The ticket has been issued an auth_req_id: the decision goes to \
                           /backchannel/authentication/complete.";
            return Ok(no_ticket(message));
        }
        Some(false) => store.backchannel.take(&ticket, now),
    };
    drop(store);
    let mut content = Map::new();
    content.insert("error".into(), error.into());
    if let Some(d) = r.error_description.filter(|d| !d.is_empty()) {
        content.insert("error_description".into(), d.into());
    }
    if let Some(u) = r.error_uri.filter(|u| !u.is_empty()) {
        content.insert("error_uri".into(), u.into());
    }
    let message =
        "Successfully generated an error response for the backchannel authentication request.";
    Ok(Obj::new(action, code, message)
        .set("responseContent", Value::Object(content).to_string())
        .done())
}

/// A fail call with a ticket that cannot be failed: Authlete's
/// INTERNAL_SERVER_ERROR for wrong request parameters of this API (the
/// client still gets an error: its request is over either way).
fn no_ticket(message: &str) -> Value {
    reply::json_error("INTERNAL_SERVER_ERROR", "L185201", "server_error", message)
}

pub(super) fn complete(engine: &LocalBackend, r: CompleteRequest) -> Result<Value, Fault> {
    let ticket = required(r.ticket, "ticket")?;
    let now = engine.now();
    let mut store = engine.store.lock();
    let flow = match store.backchannel.get(&ticket, now) {
        None => {
            return Ok(server_error(
                "L198201",
                "The ticket is unknown or has expired.",
            ));
        }
        Some((f, _)) if f.auth_req_id.is_empty() => {
            let message = "The ticket has not been issued an auth_req_id (call /backchannel/authentication/issue first).";
            return Ok(server_error("L198202", message));
        }
        Some((f, _)) if f.expires_at <= now => {
            return Ok(server_error("L198203", "The auth_req_id has expired."));
        }
        Some((f, _)) if !matches!(f.state, State::Pending) => {
            return Ok(server_error(
                "L198204",
                "The request has already been decided on.",
            ));
        }
        Some((f, _)) => f.clone(),
    };
    let state =
        decided(engine, &flow.scopes, r.decision).map_err(|m| Fault::Caller(m.to_owned()))?;
    let decided = Flow { state, ..flow };
    let weight = decided.weight();
    // The entry is replaced, not added: only its own bound applies (the
    // object cap must not refuse a decision on a request already held).
    store.fits(ticket.len() + weight)?;
    let until = decided.kept_until;
    store
        .backchannel
        .insert(ticket, decided.clone(), until, weight);
    drop(store);
    Ok(completed(&decided))
}

/// NOTIFICATION (ping: tell the client at its endpoint) or NO_ACTION (poll).
fn completed(flow: &Flow) -> Value {
    let client = &flow.client;
    let (action, code, message) = match flow.mode {
        DeliveryMode::Ping => (
            "NOTIFICATION",
            "L198002",
            "The client must be notified (mode = ping); the token endpoint will answer its request.",
        ),
        DeliveryMode::Poll => (
            "NO_ACTION",
            "L198001",
            "Successfully updated the state so that the token endpoint can answer (mode = poll).",
        ),
    };
    let obj = Obj::new(action, code, message)
        .set("clientId", client.id)
        .set("clientIdAlias", client.alias.clone().unwrap_or_default())
        .set("clientIdAliasUsed", flow.alias_used)
        .set("clientName", client.name.as_str())
        .set("deliveryMode", flow.mode.name())
        .set("authReqId", flow.auth_req_id.as_str());
    match flow.mode {
        // CIBA Core §10.2: the ping carries the auth_req_id only, whatever the decision.
        DeliveryMode::Ping => {
            let mut content = Map::new();
            content.insert("auth_req_id".into(), flow.auth_req_id.clone().into());
            obj.set("responseContent", Value::Object(content).to_string())
                .set(
                    "clientNotificationEndpoint",
                    client.backchannel.notification_endpoint.as_str(),
                )
                .set("clientNotificationToken", flow.notification_token.as_str())
                .done()
        }
        DeliveryMode::Poll => obj.done(),
    }
}

/// The SERVER_ERROR reply of `/complete` (no ready response for anyone).
pub(super) fn server_error(code: &str, message: &str) -> Value {
    Obj::new("SERVER_ERROR", code, message).done()
}
