//! `/auth/authorization/issue` and `/auth/authorization/fail`: the second
//! step of the authorization endpoint. A ticket works once; the issued
//! authorization code expires and works once too.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::LocalBackend;
use super::authz_request::AuthzRequest;
use super::idtoken::{self, IdToken};
use super::jwt::random_token;
use super::redirect;
use super::reply::{self, Fault, Obj};
use super::store::{self, CodeGrant, CodeState, Property};

/// `POST /auth/authorization/issue`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct IssueRequest {
    ticket: Option<String>,
    subject: Option<String>,
    auth_time: Option<i64>,
    acr: Option<String>,
    claims: Option<String>,
    properties: Option<Vec<Property>>,
    scopes: Option<Vec<String>>,
    sub: Option<String>,
    consented_claims: Option<Vec<String>>,
    access_token_duration: Option<i64>,
}

crate::secret::redacted_debug!(IssueRequest {
    ticket,
    subject,
    auth_time,
    acr,
    claims,
    properties,
    scopes,
    sub,
    consented_claims,
    access_token_duration
});

/// `POST /auth/authorization/fail`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct FailRequest {
    ticket: Option<String>,
    reason: Option<String>,
    description: Option<String>,
}

crate::secret::redacted_debug!(FailRequest {
    ticket,
    reason,
    description
});

const ISSUED: &str = "L040001";
const FAILED: &str = "L041001";
const NO_TICKET: &str = "L040201";

/// A required string member of an API request.
pub(super) fn required(value: Option<String>, name: &str) -> Result<String, Fault> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Fault::Caller(format!("'{name}' is missing.")))
}

/// The reply when the ticket is unknown, used or expired (Authlete:
/// BAD_REQUEST; the end-user probably took too long).
fn no_ticket() -> Value {
    reply::json_error(
        "BAD_REQUEST",
        NO_TICKET,
        "invalid_request",
        "The ticket is unknown, already used or expired.",
    )
}

pub(super) fn issue(engine: &LocalBackend, r: IssueRequest) -> Result<Value, Fault> {
    let ticket = required(r.ticket, "ticket")?;
    let subject = required(r.subject, "subject")?;
    let claims = json_object(r.claims.as_deref(), "claims")?;
    let now = engine.now();
    let mut store = engine.store.lock();
    let Some(request) = store.tickets.take(&ticket, now) else {
        return Ok(no_ticket());
    };
    let scopes = granted_scopes(engine, &request, r.scopes)?;
    let mut params: Vec<(&str, String)> = Vec::new();
    let mut code = None;
    if request.code {
        // The code holds the request, the claims and properties given here.
        let properties = r.properties.unwrap_or_default();
        let weight = request.weight
            + r.claims.as_ref().map_or(0, String::len)
            + store::properties(&properties)
            + r.consented_claims.as_deref().map_or(0, store::strings);
        store.room(now, weight)?;
        let value = random_token()?;
        let grant = CodeGrant {
            request: request.clone(),
            subject: subject.clone(),
            sub: r.sub.clone().unwrap_or_default(),
            auth_time: r.auth_time.unwrap_or(0),
            acr: r.acr.clone().unwrap_or_default(),
            scopes,
            id_token_claims: claims.clone(),
            properties,
            consented_claims: r.consented_claims.unwrap_or_default(),
            access_duration: r.access_token_duration.unwrap_or(0),
        };
        let expires = engine.expiry(now, engine.config.lifetimes.authorization_code);
        let state = CodeState::Live(Box::new(grant));
        store.codes.insert(value.clone(), state, expires, weight);
        params.push(("code", value.clone()));
        code = Some(value);
    }
    drop(store);
    let mut id_token = String::new();
    if request.id_token {
        let sub = r.sub.as_deref().filter(|s| !s.is_empty());
        id_token = idtoken::sign(
            engine,
            &IdToken {
                client: &request.client,
                alias_used: request.alias_used,
                sub: sub.unwrap_or(&subject),
                nonce: &request.nonce,
                auth_time: r.auth_time.unwrap_or(0),
                acr: r.acr.as_deref().unwrap_or_default(),
                claims: &claims,
                access_token: None,
                code: code.as_deref(),
            },
        )?;
        params.push(("id_token", id_token.clone()));
    }
    let front = redirect::build(&request.target, params, &engine.config.issuer);
    let message = "The authorization response was built successfully.";
    Ok(Obj::new(front.action, ISSUED, message)
        .set("responseContent", front.content)
        .set("authorizationCode", code.unwrap_or_default())
        .set("idToken", id_token)
        .done())
}

/// A member holding a JSON object as text; absent or empty is an empty object.
pub(super) fn json_object(text: Option<&str>, name: &str) -> Result<Map<String, Value>, Fault> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(Map::new()),
        Some(t) => match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(Fault::Caller(format!("'{name}' is not a JSON object."))),
        },
    }
}

/// The scopes the user granted: the requested ones unless the caller
/// replaces them; `openid` cannot be added (Authlete's rule).
fn granted_scopes(
    engine: &LocalBackend,
    request: &AuthzRequest,
    scopes: Option<Vec<String>>,
) -> Result<Vec<String>, Fault> {
    let Some(scopes) = scopes else {
        return Ok(request.scopes.clone());
    };
    let openid = request.scopes.iter().any(|s| s == "openid");
    let mut out = Vec::new();
    for s in scopes {
        if !engine.scopes.iter().any(|k| k.name == s) {
            return Err(Fault::Caller(
                "'scopes' names a scope the service does not support.".to_owned(),
            ));
        }
        if (s != "openid" || openid) && !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

pub(super) fn fail(engine: &LocalBackend, r: FailRequest) -> Result<Value, Fault> {
    let ticket = required(r.ticket, "ticket")?;
    let reason = required(r.reason, "reason")?;
    let (error, default) = error_for(&reason)
        .ok_or_else(|| Fault::Caller("'reason' is not a documented reason.".to_owned()))?;
    let Some(request) = engine.store.lock().tickets.take(&ticket, engine.now()) else {
        return Ok(no_ticket());
    };
    let description = r
        .description
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| default.to_owned());
    let params = vec![
        ("error", error.to_owned()),
        ("error_description", reply::described(FAILED, &description)),
    ];
    let front = redirect::build(&request.target, params, &engine.config.issuer);
    Ok(Obj::new(front.action, FAILED, &description)
        .set("responseContent", front.content)
        .done())
}

/// The OAuth error of each `/auth/authorization/fail` reason
/// (action-mapping.md §3.1), with a default description.
fn error_for(reason: &str) -> Option<(&'static str, &'static str)> {
    Some(match reason {
        "UNKNOWN" => ("server_error", "An unknown error occurred."),
        "NOT_LOGGED_IN" => ("login_required", "The end-user has not logged in."),
        "MAX_AGE_NOT_SUPPORTED" => (
            "login_required",
            "The authentication time is not tracked, so max_age cannot be honoured.",
        ),
        "EXCEEDS_MAX_AGE" => (
            "login_required",
            "The end-user authenticated longer ago than max_age allows.",
        ),
        "DIFFERENT_SUBJECT" => (
            "login_required",
            "The end-user is not the one the request asks for.",
        ),
        "ACR_NOT_SATISFIED" => (
            "unmet_authentication_requirements",
            "None of the requested ACRs is satisfied.",
        ),
        "DENIED" => ("access_denied", "The end-user denied the request."),
        "SERVER_ERROR" => ("server_error", "An error occurred on the server."),
        "NOT_AUTHENTICATED" => ("login_required", "The end-user was not authenticated."),
        "ACCOUNT_SELECTION_REQUIRED" => (
            "account_selection_required",
            "The end-user must select an account.",
        ),
        "CONSENT_REQUIRED" => ("consent_required", "The end-user's consent is required."),
        "INTERACTION_REQUIRED" => (
            "interaction_required",
            "The end-user must interact with the server.",
        ),
        "INVALID_TARGET" => ("invalid_target", "A requested resource is not acceptable."),
        "INVALID_SCOPE" => ("invalid_scope", "A requested scope is not acceptable."),
        "UNAUTHORIZED_CLIENT" => (
            "unauthorized_client",
            "The client is not allowed to make this request.",
        ),
        "TEMPORARILY_UNAVAILABLE" => (
            "temporarily_unavailable",
            "The server is temporarily unavailable.",
        ),
        _ => return None,
    })
}
