//! JWT access tokens (RFC 9068), for a client with `access_token_sign_alg`
//! or every client when the engine has one: the token record is keyed by the
//! JWT itself, so introspection, revocation and token management work on it
//! as on an opaque token. Otherwise the value is 256 random bits.

use serde_json::{Map, Value, json};

use super::LocalBackend;
use super::idtoken::client_id_as_used;
use super::jwt::{self, random_token};
use super::reply::Fault;
use super::store::Grant;

/// RFC 9068 §2.1: the `typ` of JWT access tokens.
const TYP: &str = "at+jwt";

/// The value of `grant`'s (new) access token: a JWT with its claims, or a
/// random opaque string.
pub(super) fn value(engine: &LocalBackend, grant: &Grant) -> Result<String, Fault> {
    let Some(alg) = grant.client.access_token_alg.or(engine.access_token_alg) else {
        return random_token();
    };
    let key = engine.keys.for_alg(Some(alg)).map_err(Fault::Server)?;
    jwt::sign_typed(key, TYP, &Value::Object(claims(engine, grant)?))
}

/// RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti; scope, auth_time
/// and acr when known; `cnf` for bound tokens (RFC 9449 §6, RFC 8705 §3.1).
fn claims(engine: &LocalBackend, g: &Grant) -> Result<Map<String, Value>, Fault> {
    let client_id = client_id_as_used(&g.client, g.alias_used);
    // Without a user (client credentials), the client is the subject.
    let sub = if g.subject.is_empty() {
        client_id.clone()
    } else {
        g.subject.clone()
    };
    let aud: Value = match g.resources.as_slice() {
        [] => client_id.clone().into(),
        [one] => one.clone().into(),
        many => many.to_vec().into(),
    };
    let mut c = Map::new();
    c.insert("iss".into(), engine.config.issuer.clone().into());
    c.insert("exp".into(), (g.access_expires / 1000).into());
    c.insert("aud".into(), aud);
    c.insert("sub".into(), sub.into());
    c.insert("client_id".into(), client_id.into());
    c.insert("iat".into(), (g.access_issued / 1000).into());
    c.insert("jti".into(), random_token()?.into());
    if !g.scopes.is_empty() {
        c.insert("scope".into(), g.scopes.join(" ").into());
    }
    if g.auth_time > 0 {
        c.insert("auth_time".into(), g.auth_time.into());
    }
    if !g.acr.is_empty() {
        c.insert("acr".into(), g.acr.clone().into());
    }
    let mut cnf = Map::new();
    if let Some(jkt) = &g.dpop_jkt {
        cnf.insert("jkt".into(), jkt.clone().into());
    }
    if let Some(x5t) = &g.cert_thumbprint {
        cnf.insert("x5t#S256".into(), x5t.clone().into());
    }
    if !cnf.is_empty() {
        c.insert("cnf".into(), json!(cnf));
    }
    Ok(c)
}
