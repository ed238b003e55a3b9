//! Client authentication by JWT (RFC 7523 §2.2 and §3, OpenID Connect Core
//! §9): `private_key_jwt`, signed with a key the client registered, and
//! `client_secret_jwt`, MACed with its secret. The claims checked are `iss`
//! and `sub` (the client), `aud` (the engine), `exp`, `nbf`, and `jti`, which
//! is used once (the engine's replay cache, until the assertion expires).

use serde_json::{Map, Value};

use super::LocalBackend;
use super::client::{AuthMethod, Client};
use super::client_auth::AuthFailure;
use super::client_keys;
use super::reply::Fault;

/// RFC 7523 §2.2: the one `client_assertion_type`.
pub(super) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Seconds an assertion's `exp` / `nbf` may be off the engine's clock.
const SKEW_SECONDS: i64 = 30;

/// The `client_id` an assertion names (`iss`, else `sub`), read before the
/// client and its keys are known; not trusted until [`verify`] passes.
pub(super) fn claimed_client(assertion: &str) -> Result<String, AuthFailure> {
    // RFC 7521 §4.2.1: an assertion that is not valid is invalid_client.
    let parsed = super::jws::parse(assertion).map_err(|m| failure(false, m))?;
    let text = |m: &str| parsed.claims.get(m).and_then(Value::as_str);
    text("iss")
        .or_else(|| text("sub"))
        .map(str::to_owned)
        .ok_or_else(|| failure(false, "The client assertion has no 'iss' claim."))
}

/// Verifies `assertion` as `client`'s at the endpoint `url`; the method it
/// authenticated with. `Err(Ok(_))` is the client's failure, `Err(Err(_))`
/// the engine's (a full replay cache).
pub(super) fn verify(
    engine: &LocalBackend,
    client: &Client,
    assertion: &str,
    url: &str,
) -> Result<AuthMethod, Result<AuthFailure, Fault>> {
    let refuse = |m: &'static str| Err(Ok(failure(false, m)));
    let claims = match client.auth_method {
        AuthMethod::PrivateKeyJwt => {
            let Some(keys) = &client.keys else {
                return refuse("The client has no registered keys.");
            };
            if client_keys::is_hmac(assertion) {
                return refuse(
                    "The client used an authentication method it is not registered for.",
                );
            }
            match keys.verify(assertion) {
                Ok((_, claims)) => claims,
                Err(m) => return refuse(m),
            }
        }
        AuthMethod::ClientSecretJwt => {
            // Never MAC with an empty key: that would be forgeable.
            let Some(secret) = client.secret.as_deref().filter(|s| !s.is_empty()) else {
                return refuse("The client has no secret.");
            };
            if !client_keys::is_hmac(assertion) {
                return refuse(
                    "The client used an authentication method it is not registered for.",
                );
            }
            match client_keys::verify_hmac(secret, assertion) {
                Ok(claims) => claims,
                Err(m) => return refuse(m),
            }
        }
        _ => return refuse("The client used an authentication method it is not registered for."),
    };
    let now = engine.now();
    let exp = check_claims(engine, client, &claims, url, now).map_err(|m| Ok(failure(false, m)))?;
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let until = exp.saturating_mul(1000).saturating_add(SKEW_SECONDS * 1000);
    match engine
        .assertions
        .first_use(&client.id.to_string(), jti, now, until)
    {
        Ok(true) => Ok(client.auth_method),
        Ok(false) => refuse("The client assertion was used before ('jti' replayed)."),
        Err(fault) => Err(Err(fault)),
    }
}

/// The claims' checks; `exp` in seconds when they pass.
fn check_claims(
    engine: &LocalBackend,
    client: &Client,
    claims: &Map<String, Value>,
    url: &str,
    now_ms: i64,
) -> Result<i64, &'static str> {
    // The client ID by alias or by number, as `client_id` may be.
    let number = client.id.to_string();
    let is_client = |m: &str| {
        claims
            .get(m)
            .and_then(Value::as_str)
            .is_some_and(|v| v == number || client.alias.as_deref() == Some(v))
    };
    if !is_client("iss") {
        return Err("The client assertion's 'iss' is not the client ID.");
    }
    if !is_client("sub") {
        return Err("The client assertion's 'sub' is not the client ID.");
    }
    if !audience_ok(engine, claims.get("aud"), url) {
        return Err("The client assertion's 'aud' does not name this server.");
    }
    let now = now_ms / 1000;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or("The client assertion has no numeric 'exp' claim.")?;
    if exp.saturating_add(SKEW_SECONDS) <= now {
        return Err("The client assertion has expired.");
    }
    // Its `jti` is remembered until `exp`: a bound on how long one
    // assertion holds a place in the replay cache.
    if exp.saturating_sub(now) > engine.config.client_assertion_max_lifetime {
        return Err(
            "The client assertion's 'exp' is too far in the future (client_assertion_max_lifetime).",
        );
    }
    if claims
        .get("nbf")
        .and_then(Value::as_i64)
        .is_some_and(|nbf| nbf.saturating_sub(SKEW_SECONDS) > now)
    {
        return Err("The client assertion is not valid yet ('nbf').");
    }
    if claims
        .get("jti")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err("The client assertion has no 'jti' claim.");
    }
    Ok(exp)
}

/// RFC 7523 §3: `aud` names the authorization server: its issuer, its
/// token endpoint, or the endpoint in use (PAR, revocation, ...); only the
/// issuer when `client_assertion_aud_restricted_to_issuer` is set (Authlete's
/// `clientAssertionAudRestrictedToIssuer`, which FAPI 2.0 asks for).
fn audience_ok(engine: &LocalBackend, aud: Option<&Value>, url: &str) -> bool {
    let config = &engine.config;
    let issuer = config.issuer.as_str();
    let token = config.endpoint(&config.endpoints.token);
    let accepted = |a: &str| {
        a == issuer
            || (!config.client_assertion_aud_restricted_to_issuer && (a == token || a == url))
    };
    match aud {
        Some(Value::String(a)) => accepted(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(accepted),
        _ => false,
    }
}

fn failure(malformed: bool, message: &'static str) -> AuthFailure {
    AuthFailure { malformed, message }
}
