//! `/auth/authorization`: validates an authorization request (its request
//! object, if any, or the pushed one a `request_uri` names) and issues a
//! ticket: action INTERACTION, or NO_INTERACTION for `prompt=none`. Errors
//! are LOCATION/FORM to the redirect URI when it can be trusted, BAD_REQUEST
//! otherwise.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::LocalBackend;
use super::authz_request::{self, AuthzError, AuthzRequest, direct};
use super::claims;
use super::client::Client;
use super::jwt::random_token;
use super::par;
use super::params::Params;
use super::redirect;
use super::reply::{self, Fault, Obj};

/// `POST /auth/authorization`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Request {
    parameters: Option<String>,
}

crate::secret::redacted_debug!(Request { parameters });

/// A ticket was issued.
const OK: &str = "L004001";
/// An error answered without redirect.
const BAD_REQUEST: &str = "L004201";
/// An error sent to the redirect URI.
const REDIRECTED: &str = "L004202";

pub(super) fn handle(engine: &LocalBackend, request: Request) -> Result<Value, Fault> {
    let parameters = request
        .parameters
        .ok_or_else(|| Fault::Caller("'parameters' is missing.".to_owned()))?;
    // Parsing is linear (and names a list parameter past its bound); what
    // the engine would store for the request is bounded before any checks.
    let params = match Params::parse(&parameters, engine.config.max_list_values) {
        Ok(p) => p,
        Err(m) => return Ok(error_reply(engine, direct("invalid_request", &m))),
    };
    if parameters.len() > engine.config.max_request_bytes {
        let m = "The authorization request is larger than this server accepts.";
        return Ok(error_reply(engine, direct("invalid_request", m)));
    }
    let now = engine.now();
    // Only pushed requests are known by reference; any other `request_uri`
    // is a request object the parse refuses (request_uri_not_supported), as
    // it refuses `request_uri` beside `request`.
    let parsed = match params.get("request_uri") {
        Some(uri) if uri.starts_with(par::URN) && !params.has("request") => {
            pushed(engine, &params, uri, now)
        }
        _ => authz_request::parse(engine, &params, None)
            .map(|r| Arc::new(r.weighing(parameters.len()))),
    };
    let request = match parsed {
        Ok(r) => r,
        Err(e) => return Ok(error_reply(engine, e)),
    };
    let ticket = random_token()?;
    {
        let mut store = engine.store.lock();
        store.room(now, request.weight)?;
        let expires = engine.expiry(now, engine.config.lifetimes.authorization_ticket);
        store
            .tickets
            .insert(ticket.clone(), request.clone(), expires, request.weight);
    }
    Ok(interaction(engine, &request, &ticket))
}

/// The request a `request_uri` from `/pushed_auth_req` stands for, used
/// once. RFC 9126 §4: `client_id` must accompany it and name the same client.
fn pushed(
    engine: &LocalBackend,
    params: &Params,
    uri: &str,
    now: i64,
) -> Result<Arc<AuthzRequest>, AuthzError> {
    let found = engine.store.lock().pushed.take(uri, now);
    let Some(request) = found else {
        return Err(direct(
            "invalid_request_uri",
            "The request URI is unknown, already used or expired.",
        ));
    };
    let same_client = params
        .get("client_id")
        .and_then(|id| engine.clients.find(id))
        .is_some_and(|(c, _)| c.id == request.client.id);
    if !same_client {
        return Err(direct(
            "invalid_request",
            "'client_id' is missing or is not the client that pushed the request.",
        ));
    }
    Ok(request)
}

/// An error reply: BAD_REQUEST with a JSON error, or LOCATION/FORM to the
/// redirect URI with `error`, `error_description`, `state` and `iss`.
pub(super) fn error_reply(engine: &LocalBackend, error: AuthzError) -> Value {
    match error {
        AuthzError::Direct { error, message } => {
            reply::json_error("BAD_REQUEST", BAD_REQUEST, error, &message)
        }
        AuthzError::Redirect {
            error,
            message,
            target,
        } => {
            let params = vec![
                ("error", error.to_owned()),
                ("error_description", reply::described(REDIRECTED, &message)),
            ];
            let front = redirect::build(&target, params, &engine.config.issuer);
            Obj::new(front.action, REDIRECTED, &message)
                .set("responseContent", front.content)
                .done()
        }
    }
}

fn interaction(engine: &LocalBackend, r: &AuthzRequest, ticket: &str) -> Value {
    let action = if r.prompts.contains(&"NONE") {
        "NO_INTERACTION"
    } else {
        "INTERACTION"
    };
    let mut id_token_claims = r.claims.id_token.names.clone();
    if !r.code {
        // No access token will exist, so the scope claims go in the ID token.
        let implied = claims::from_scopes(&r.scopes, &engine.claims_supported);
        claims::merge(&mut id_token_claims, implied);
    }
    let message = format!(
        "The authorization request is valid; a ticket was issued. [response_type={}, openid={}]",
        match (r.code, r.id_token) {
            (true, true) => "code id_token",
            (true, false) => "code",
            _ => "id_token",
        },
        r.scopes.iter().any(|s| s == "openid")
    );
    Obj::new(action, OK, &message)
        .set("client", client_json(&r.client))
        .set("clientIdAliasUsed", r.alias_used)
        .set("display", r.display)
        .set("maxAge", r.max_age)
        .set("scopes", scopes_json(engine, &r.scopes))
        .set("uiLocales", r.ui_locales.clone())
        .set("claimsLocales", r.claims_locales.clone())
        .set("claims", id_token_claims)
        .set("claimsAtUserInfo", r.claims.userinfo.names.clone())
        .set("acrEssential", r.claims.acr_essential)
        .set("acrs", r.acrs.clone())
        .set("subject", r.claims.subject.as_str())
        .set("loginHint", r.login_hint.as_str())
        .set("prompts", r.prompts.clone())
        .set("lowestPrompt", lowest(&r.prompts))
        .set("requestObjectPayload", r.request_object_payload.as_str())
        .set("idTokenClaims", r.claims.id_token.json.as_str())
        .set("userInfoClaims", r.claims.userinfo.json.as_str())
        .set("resources", r.resources.clone())
        .set("ticket", ticket)
        .done()
}

/// The requested scopes as Authlete `Scope` objects.
pub(super) fn scopes_json(engine: &LocalBackend, scopes: &[String]) -> Vec<Value> {
    scopes
        .iter()
        .map(|name| {
            let config = engine.scopes.iter().find(|s| &s.name == name);
            Obj::empty()
                .set("name", name.as_str())
                .set("defaultEntry", config.is_some_and(|s| s.default))
                .set(
                    "description",
                    config.map(|s| s.description.clone()).unwrap_or_default(),
                )
                .done()
        })
        .collect()
}

/// Authlete's `Prompt` order is NONE, LOGIN, CONSENT, SELECT_ACCOUNT, CREATE.
fn lowest(prompts: &[&'static str]) -> Option<&'static str> {
    ["NONE", "LOGIN", "CONSENT", "SELECT_ACCOUNT", "CREATE"]
        .into_iter()
        .find(|p| prompts.contains(p))
}

/// The client as a consent page shows it (Authlete `Client`, in part).
fn client_json(c: &Client) -> Value {
    let name = if c.name.is_empty() {
        c.client_id()
    } else {
        c.name.clone()
    };
    Obj::empty()
        .set("clientId", c.id)
        .set("clientIdAlias", c.alias.clone().unwrap_or_default())
        .set("clientIdAliasEnabled", c.alias.is_some())
        .set("clientName", name)
        .set("description", c.description.as_str())
        .set("clientType", c.type_name())
        .set("logoUri", c.logo_uri.as_str())
        .set("tosUri", c.tos_uri.as_str())
        .set("policyUri", c.policy_uri.as_str())
        .set("clientUri", c.client_uri.as_str())
        .done()
}
