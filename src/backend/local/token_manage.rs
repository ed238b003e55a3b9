//! Token management: `/auth/token/update`, `/auth/token/revoke`,
//! `/auth/token/get/list` and `/auth/token/delete/{id}`.
//!
//! Tokens are named by value or by hash. The engine's hash of a token is
//! BASE64URL(SHA-256(value)), the form its token list shows; the store
//! indexes both.

use serde::Deserialize;
use serde_json::Value;

use super::LocalBackend;
use super::jwt::random_token;
use super::reply::{Fault, Obj};
use super::store::{Grant, Inner, Property};

/// `POST /auth/token/update`. Members the engine cannot honour are read so
/// that a request using them is refused rather than half applied.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct UpdateRequest {
    access_token: Option<String>,
    access_token_hash: Option<String>,
    token_id: Option<String>,
    access_token_expires_at: Option<i64>,
    refresh_token_expires_at: Option<i64>,
    scopes: Option<Vec<String>>,
    properties: Option<Vec<Property>>,
    access_token_expires_at_updated_on_scope_update: bool,
    refresh_token_expires_at_updated_on_scope_update: bool,
    access_token_value_updated: bool,
    access_token_persistent: bool,
    certificate_thumbprint: Option<String>,
    dpop_key_thumbprint: Option<String>,
    authorization_details: Option<Value>,
    for_external_attachment: bool,
}

crate::secret::redacted_debug!(UpdateRequest {
    access_token,
    access_token_hash,
    token_id,
    access_token_expires_at,
    refresh_token_expires_at,
    scopes,
    properties,
    access_token_expires_at_updated_on_scope_update,
    refresh_token_expires_at_updated_on_scope_update,
    access_token_value_updated,
    access_token_persistent,
    certificate_thumbprint,
    dpop_key_thumbprint,
    authorization_details,
    for_external_attachment
});

/// `POST /auth/token/revoke`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct RevokeRequest {
    access_token_identifier: Option<String>,
    refresh_token_identifier: Option<String>,
    client_identifier: Option<String>,
    subject: Option<String>,
}

crate::secret::redacted_debug!(RevokeRequest {
    access_token_identifier,
    refresh_token_identifier,
    client_identifier,
    subject
});

/// The live record whose access token has this value or hash. A record
/// lives while either of its tokens does: an expired access token still
/// names the refresh token that came with it.
fn find_access(store: &Inner, identifier: &str, now: i64) -> Option<u64> {
    let (id, g) = store.by_access_identifier(identifier)?;
    (g.expires() > now).then_some(id)
}

/// The live record whose refresh token has this value or hash.
fn find_refresh(store: &Inner, identifier: &str, now: i64) -> Option<u64> {
    let (id, g) = store.by_refresh_identifier(identifier)?;
    (g.expires() > now).then_some(id)
}

/// What the engine refuses in an update, and why.
fn unsupported(r: &UpdateRequest) -> Option<&'static str> {
    if r.access_token_persistent {
        return Some("'accessTokenPersistent': the local engine's tokens always expire.");
    }
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    if set(&r.certificate_thumbprint) || set(&r.dpop_key_thumbprint) {
        return Some("the local engine does not bind tokens to certificates or DPoP keys.");
    }
    if r.authorization_details
        .as_ref()
        .is_some_and(|v| !v.is_null())
    {
        return Some("the local engine does not support authorization details.");
    }
    if r.for_external_attachment {
        return Some("the local engine does not support external attachments.");
    }
    None
}

pub(super) fn update(engine: &LocalBackend, r: UpdateRequest) -> Result<Value, Fault> {
    let bad = |m: &str| Ok(Obj::new("BAD_REQUEST", "L113201", m).done());
    if let Some(reason) = unsupported(&r) {
        return bad(reason);
    }
    let identifier = match (&r.access_token, &r.access_token_hash) {
        (Some(t), _) if !t.is_empty() => t.clone(),
        (_, Some(h)) if !h.is_empty() => h.clone(),
        _ if r.token_id.as_deref().is_some_and(|t| !t.is_empty()) => {
            return bad("'tokenId': the local engine finds tokens by value or hash only.");
        }
        _ => return bad("'accessToken' or 'accessTokenHash' is required."),
    };
    let now = engine.now();
    let mut store = engine.store.lock();
    let Some(id) = find_access(&store, &identifier, now) else {
        let message = "The access token does not exist or has expired.";
        return Ok(Obj::new("NOT_FOUND", "L113301", message).done());
    };
    if r.access_token_value_updated {
        let value = match store.grant_mut(id) {
            Some(g) => super::jwt_at::value(engine, g)?,
            None => random_token()?,
        };
        store.rekey_access(id, value);
    }
    let Some(grant) = store.grant_mut(id) else {
        return Err(Fault::Server("the token record vanished".to_owned()));
    };
    apply(engine, grant, &r, now);
    let grant = grant.clone();
    drop(store);
    Ok(updated(&grant))
}

/// Applies an update: absent members leave the token as it is.
fn apply(engine: &LocalBackend, grant: &mut Grant, r: &UpdateRequest, now: i64) {
    let lifetimes = &engine.config.lifetimes;
    if let Some(scopes) = &r.scopes {
        // As Authlete does, scopes the service does not support are dropped.
        grant.scopes = scopes
            .iter()
            .filter(|s| engine.scopes.iter().any(|k| &k.name == *s))
            .cloned()
            .collect();
        // A refresh must not bring the removed scopes back.
        grant.refresh_scopes = grant.scopes.clone();
        if r.access_token_expires_at_updated_on_scope_update {
            grant.access_expires = engine.expiry(now, lifetimes.access_token);
        }
        if r.refresh_token_expires_at_updated_on_scope_update && grant.refresh_token.is_some() {
            grant.refresh_expires = engine.expiry(now, lifetimes.refresh_token);
        }
    }
    if let Some(at) = r.access_token_expires_at.filter(|at| *at > 0) {
        grant.access_expires = at;
    }
    if let Some(at) = r.refresh_token_expires_at.filter(|at| *at > 0)
        && grant.refresh_token.is_some()
    {
        grant.refresh_expires = at;
    }
    if let Some(properties) = &r.properties {
        grant.properties = properties.clone();
    }
}

fn updated(grant: &Grant) -> Value {
    let properties: Vec<Value> = grant
        .properties
        .iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .collect();
    let refresh_at = grant
        .refresh_token
        .as_ref()
        .map_or(0, |_| grant.refresh_expires);
    let message = "The access token was updated successfully.";
    Obj::new("OK", "L113001", message)
        .set("accessToken", grant.access_token.as_str())
        .set("accessTokenExpiresAt", grant.access_expires)
        .set("properties", properties)
        .set("scopes", grant.scopes.clone())
        .set("tokenType", "Bearer")
        .set("refreshTokenExpiresAt", refresh_at)
        .done()
}

pub(super) fn revoke(engine: &LocalBackend, r: RevokeRequest) -> Result<Value, Fault> {
    let given = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let (access, refresh) = (
        given(&r.access_token_identifier),
        given(&r.refresh_token_identifier),
    );
    let (client, subject) = (given(&r.client_identifier), given(&r.subject));
    if access.is_none() && refresh.is_none() && client.is_none() && subject.is_none() {
        return Err(Fault::Caller(
            "One of accessTokenIdentifier, refreshTokenIdentifier, clientIdentifier and \
             subject is required."
                .to_owned(),
        ));
    }
    let client_id = match &client {
        Some(c) => match engine.clients.find(c) {
            Some((client, _)) => Some(client.id),
            None => return Ok(revoked(0)),
        },
        None => None,
    };
    let now = engine.now();
    let mut store = engine.store.lock();
    let mut ids: Vec<u64> = match (&access, &refresh) {
        (None, None) => store.grants_in_order().map(|(id, _)| id).collect(),
        _ => {
            let a = access.as_ref().and_then(|a| find_access(&store, a, now));
            let r = refresh.as_ref().and_then(|r| find_refresh(&store, r, now));
            a.into_iter().chain(r).collect()
        }
    };
    // Every condition given must hold (the filters narrow, never widen).
    ids.retain(|id| {
        store.grant(*id).is_some_and(|g| {
            client_id.is_none_or(|c| g.client.id == c)
                && subject.as_ref().is_none_or(|s| &g.subject == s)
        })
    });
    ids.dedup();
    for id in &ids {
        store.remove_grant(*id);
    }
    Ok(revoked(ids.len()))
}

fn revoked(count: usize) -> Value {
    let message = format!("{count} access token(s) were revoked.");
    Obj::new("", "L114001", &message)
        .set("count", count as i64)
        .done()
}

/// `DELETE /auth/token/delete/{accessTokenIdentifier}`: Authlete answers
/// 204 with no body; deleting a token that is not there is not an error
/// (DELETE is idempotent).
pub(super) fn delete(engine: &LocalBackend, query: &[(&str, String)]) -> Result<(), Fault> {
    let identifier = param(query, "accessTokenIdentifier")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Fault::Caller("The access token identifier is missing.".to_owned()))?;
    let now = engine.now();
    let mut store = engine.store.lock();
    if let Some(id) = find_access(&store, identifier, now) {
        store.remove_grant(id);
    }
    Ok(())
}

pub(super) fn param<'a>(query: &'a [(&str, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}
