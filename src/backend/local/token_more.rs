//! The token APIs beside `/auth/token`: `/auth/token/issue` and
//! `/auth/token/fail` (the password grant's second step) and
//! `/auth/token/create` (tokens minted for token exchange, JWT bearer and
//! other flows the web tier completes itself).

use serde::Deserialize;
use serde_json::Value;

use super::LocalBackend;
use super::authz_issue::required;
use super::reply::{self, Fault, Obj};
use super::store::Property;
use super::token::{NewTokens, content, mint, seconds_left, token_members};

/// `POST /auth/token/issue`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct IssueRequest {
    ticket: Option<String>,
    subject: Option<String>,
    properties: Option<Vec<Property>>,
    access_token_duration: Option<i64>,
    refresh_token_duration: Option<i64>,
}

crate::secret::redacted_debug!(IssueRequest {
    ticket,
    subject,
    properties,
    access_token_duration,
    refresh_token_duration
});

/// `POST /auth/token/fail`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct FailRequest {
    ticket: Option<String>,
    reason: Option<String>,
}

crate::secret::redacted_debug!(FailRequest { ticket, reason });

/// `POST /auth/token/create`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct CreateRequest {
    grant_type: Option<String>,
    client_id: Option<i64>,
    subject: Option<String>,
    scopes: Option<Vec<String>>,
    access_token_duration: Option<i64>,
    refresh_token_duration: Option<i64>,
    properties: Option<Vec<Property>>,
    resources: Option<Vec<String>>,
    acr: Option<String>,
    auth_time: Option<i64>,
}

const NO_TICKET: &str = "L054201";

/// The reply to an unknown, used or expired ticket. The issue and fail APIs
/// have no client-error action, so it is INTERNAL_SERVER_ERROR.
fn no_ticket() -> Value {
    let message = "The ticket is unknown, already used or expired.";
    reply::json_error("INTERNAL_SERVER_ERROR", NO_TICKET, "server_error", message)
}

pub(super) fn issue(engine: &LocalBackend, r: IssueRequest) -> Result<Value, Fault> {
    let ticket = required(r.ticket, "ticket")?;
    let subject = required(r.subject, "subject")?;
    let now = engine.now();
    let mut store = engine.store.lock();
    let Some(pending) = store.password_tickets.take(&ticket, now) else {
        return Ok(no_ticket());
    };
    let mut properties = pending.properties;
    properties.extend(r.properties.unwrap_or_default());
    let refresh = pending.client.allows("refresh_token");
    let (_, grant) = mint(
        engine,
        &mut store,
        now,
        NewTokens {
            client: pending.client,
            alias_used: pending.alias_used,
            subject,
            scopes: pending.scopes,
            grant_type: "PASSWORD",
            properties,
            resources: Vec::new(),
            auth_time: 0,
            acr: String::new(),
            userinfo_claims: Vec::new(),
            userinfo_claims_json: String::new(),
            consented_claims: Vec::new(),
            refresh,
            access_duration: r.access_token_duration.unwrap_or(pending.access_duration),
            refresh_duration: r.refresh_token_duration.unwrap_or(pending.refresh_duration),
            dpop_jkt: pending.dpop_jkt,
            cert_thumbprint: pending.cert_thumbprint,
        },
    )?;
    drop(store);
    let message = "The token request (grant_type=password) was processed successfully.";
    let obj = Obj::new("OK", "L054001", message).set("responseContent", content(&grant, "", now));
    Ok(token_members(obj, &grant, now).done())
}

pub(super) fn fail(engine: &LocalBackend, r: FailRequest) -> Result<Value, Fault> {
    let ticket = required(r.ticket, "ticket")?;
    let reason = required(r.reason, "reason")?;
    let (action, error, message) = match reason.as_str() {
        "UNKNOWN" => (
            "INTERNAL_SERVER_ERROR",
            "server_error",
            "An unknown error occurred.",
        ),
        // RFC 6749 §5.2: wrong resource owner credentials are an invalid grant.
        "INVALID_RESOURCE_OWNER_CREDENTIALS" => (
            "BAD_REQUEST",
            "invalid_grant",
            "The resource owner's credentials are wrong.",
        ),
        "INVALID_TARGET" => (
            "BAD_REQUEST",
            "invalid_target",
            "A requested resource is not acceptable.",
        ),
        "INVALID_CLIENT" => (
            "BAD_REQUEST",
            "invalid_client",
            "The client is not acceptable.",
        ),
        "UNAUTHORIZED_CLIENT" => (
            "BAD_REQUEST",
            "unauthorized_client",
            "The client is not allowed to make this request.",
        ),
        "INVALID_SCOPE" => (
            "BAD_REQUEST",
            "invalid_scope",
            "A requested scope is not acceptable.",
        ),
        _ => {
            return Err(Fault::Caller(
                "'reason' is not a documented reason.".to_owned(),
            ));
        }
    };
    if engine
        .store
        .lock()
        .password_tickets
        .take(&ticket, engine.now())
        .is_none()
    {
        return Ok(no_ticket());
    }
    Ok(reply::json_error(action, "L055201", error, message))
}

/// Grant types `/auth/token/create` accepts, and whether a refresh token
/// comes with the access token (not for client credentials or implicit).
fn create_grant(name: &str) -> Option<(&'static str, bool)> {
    Some(match name {
        "AUTHORIZATION_CODE" => ("AUTHORIZATION_CODE", true),
        "IMPLICIT" => ("IMPLICIT", false),
        "PASSWORD" => ("PASSWORD", true),
        "CLIENT_CREDENTIALS" => ("CLIENT_CREDENTIALS", false),
        "REFRESH_TOKEN" => ("REFRESH_TOKEN", true),
        "CIBA" => ("CIBA", true),
        "DEVICE_CODE" => ("DEVICE_CODE", true),
        "TOKEN_EXCHANGE" => ("TOKEN_EXCHANGE", true),
        "JWT_BEARER" => ("JWT_BEARER", true),
        _ => return None,
    })
}

pub(super) fn create(engine: &LocalBackend, r: CreateRequest) -> Result<Value, Fault> {
    let bad = |m: &str| Ok(Obj::new("BAD_REQUEST", "L109201", m).done());
    let Some((grant_type, refresh)) = r.grant_type.as_deref().and_then(create_grant) else {
        return bad("'grantType' is missing or not a supported grant type.");
    };
    let Some(client) = r.client_id.and_then(|id| engine.clients.by_number(id)) else {
        return bad("'clientId' does not name a registered client.");
    };
    let subject = r.subject.unwrap_or_default();
    if subject.is_empty() && grant_type != "CLIENT_CREDENTIALS" {
        return bad("'subject' is required for this grant type.");
    }
    let scopes = r.scopes.unwrap_or_default();
    if scopes
        .iter()
        .any(|s| !engine.scopes.iter().any(|k| &k.name == s))
    {
        return bad("'scopes' names a scope the service does not support.");
    }
    let now = engine.now();
    let mut store = engine.store.lock();
    let (_, grant) = mint(
        engine,
        &mut store,
        now,
        NewTokens {
            client,
            alias_used: false,
            subject,
            scopes,
            grant_type,
            properties: r.properties.unwrap_or_default(),
            resources: r.resources.unwrap_or_default(),
            auth_time: r.auth_time.unwrap_or(0),
            acr: r.acr.unwrap_or_default(),
            userinfo_claims: Vec::new(),
            userinfo_claims_json: String::new(),
            consented_claims: Vec::new(),
            refresh,
            access_duration: r.access_token_duration.unwrap_or(0),
            refresh_duration: r.refresh_token_duration.unwrap_or(0),
            dpop_jkt: None,
            cert_thumbprint: None,
        },
    )?;
    drop(store);
    let properties: Vec<Value> = grant
        .properties
        .iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .collect();
    let message = format!(
        "An access token was created successfully: {}, client = {}",
        grant_type.to_ascii_lowercase(),
        grant.client.id
    );
    Ok(Obj::new("OK", "L109001", &message)
        .set("accessToken", grant.access_token.as_str())
        .set("clientId", grant.client.id)
        .set("expiresAt", grant.access_expires)
        .set("expiresIn", seconds_left(grant.access_expires, now))
        .set("grantType", grant_type)
        .set("properties", properties)
        .set(
            "refreshToken",
            grant.refresh_token.clone().unwrap_or_default(),
        )
        .set("scopes", grant.scopes.clone())
        .set("subject", grant.subject.as_str())
        .set("tokenType", "Bearer")
        .set(
            "refreshTokenScopes",
            if refresh {
                grant.refresh_scopes.clone()
            } else {
                Vec::new()
            },
        )
        .done())
}
