//! The `id_token_hint` of a CIBA request (CIBA Core §7.1): an ID token this
//! engine issued to the client, verified with the engine's own keys, whose
//! `sub` names the end-user. An expired one is accepted: it is a hint about
//! a past authentication, not a credential.

use serde_json::Value;

use super::LocalBackend;
use super::client::Client;
use super::jws;

/// The `sub` of `token`, or why it is not an ID token this engine issued
/// to `client`.
pub(super) fn subject(
    engine: &LocalBackend,
    client: &Client,
    token: &str,
) -> Result<String, &'static str> {
    let parsed = jws::parse(token).map_err(|_| "The id_token_hint is not a compact JWS.")?;
    if jws::is_access_token(&parsed.header) {
        return Err("The id_token_hint is an access token (typ at+jwt), not an ID token.");
    }
    let kid = parsed
        .header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or("The id_token_hint has no 'kid': it was not issued by this server.")?;
    let key = engine
        .keys
        .made(kid)
        .ok_or("The id_token_hint was not signed by a key of this server.")?;
    if parsed.header.get("alg").and_then(Value::as_str) != Some(key.alg().name()) {
        return Err("The id_token_hint's 'alg' is not the algorithm of its key.");
    }
    let jwk = key
        .public_jwk()
        .as_object()
        .ok_or("The engine's key has no JWK.")?;
    let public = jws::public_members(key.alg(), jwk).map_err(|_| "The engine's key has no JWK.")?;
    jws::verify(key.alg(), &public, &parsed)
        .map_err(|_| "The signature of the id_token_hint does not verify.")?;
    let claims = &parsed.claims;
    if claims.get("iss").and_then(Value::as_str) != Some(engine.config.issuer.as_str()) {
        return Err("The id_token_hint was not issued by this server ('iss').");
    }
    if !audience_is(claims.get("aud"), client) {
        return Err("The id_token_hint was not issued to this client ('aud').");
    }
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() => Ok(sub.to_owned()),
        _ => Err("The id_token_hint has no 'sub'."),
    }
}

/// Whether `aud` (a string or an array) names the client, by number or alias.
fn audience_is(aud: Option<&Value>, client: &Client) -> bool {
    let names = |v: &str| v == client.id.to_string() || client.alias.as_deref() == Some(v);
    match aud {
        Some(Value::String(a)) => names(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(names),
        _ => false,
    }
}
