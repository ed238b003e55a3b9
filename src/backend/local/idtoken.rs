//! ID tokens (OpenID Connect Core §2), signed with the engine's key.

use serde_json::{Map, Value};

use super::LocalBackend;
use super::client::Client;
use super::jwt;
use super::reply::Fault;

/// What goes into one ID token.
pub(super) struct IdToken<'a> {
    pub client: &'a Client,
    pub alias_used: bool,
    pub sub: &'a str,
    pub nonce: &'a str,
    pub auth_time: i64,
    pub acr: &'a str,
    /// User claims (the `claims` of `/auth/authorization/issue`).
    pub claims: &'a Map<String, Value>,
    /// The access token, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// The authorization code, for `c_hash`.
    pub code: Option<&'a str>,
}

/// The `client_id` as the client used it: the `aud` of ID tokens and the
/// `client_id` of introspection responses.
pub(super) fn client_id_as_used(client: &Client, alias_used: bool) -> String {
    match (&client.alias, alias_used) {
        (Some(alias), true) => alias.clone(),
        _ => client.id.to_string(),
    }
}

/// Builds and signs an ID token.
pub(super) fn sign(engine: &LocalBackend, t: &IdToken<'_>) -> Result<String, Fault> {
    let key = engine
        .keys
        .for_alg(t.client.id_token_alg)
        .map_err(Fault::Server)?;
    let now = engine.now() / 1000;
    let mut c = Map::new();
    c.insert("iss".into(), engine.config.issuer.clone().into());
    c.insert("sub".into(), t.sub.into());
    c.insert(
        "aud".into(),
        client_id_as_used(t.client, t.alias_used).into(),
    );
    c.insert(
        "exp".into(),
        (now + engine.config.lifetimes.id_token).into(),
    );
    c.insert("iat".into(), now.into());
    if t.auth_time > 0 {
        c.insert("auth_time".into(), t.auth_time.into());
    }
    if !t.nonce.is_empty() {
        c.insert("nonce".into(), t.nonce.into());
    }
    if !t.acr.is_empty() {
        c.insert("acr".into(), t.acr.into());
    }
    if let Some(at) = t.access_token {
        c.insert("at_hash".into(), key.alg().half_hash(at).into());
    }
    if let Some(code) = t.code {
        c.insert("c_hash".into(), key.alg().half_hash(code).into());
    }
    for (name, value) in t.claims {
        // User claims never override what the engine vouches for.
        if !c.contains_key(name) && !value.is_null() {
            c.insert(name.clone(), value.clone());
        }
    }
    jwt::sign(key, &Value::Object(c))
}
