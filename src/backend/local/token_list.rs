//! `GET /auth/token/get/list`: the live token records of a client and/or a
//! subject, oldest first, named by hash (a list never shows token values).
//! A record lives while either of its tokens does.

use serde_json::Value;

use super::LocalBackend;
use super::client::Client;
use super::reply::{Fault, Obj};
use super::store::{Grant, token_hash};
use super::token_manage::param;

/// Authlete's default `end` when the query has none.
const DEFAULT_END: i64 = 5;
/// The most records one call returns (a shorter page says where it ended),
/// so that no call holds the store for long.
const MAX_PAGE: i64 = 1000;

pub(super) fn list(engine: &LocalBackend, query: &[(&str, String)]) -> Result<Value, Fault> {
    let start = index(query, "start")?.unwrap_or(0);
    let end = index(query, "end")?.unwrap_or(DEFAULT_END);
    if start < 0 || end < start {
        return Err(Fault::Caller(
            "'start' must be 0 or more and 'end' not below it.".to_owned(),
        ));
    }
    let subject = param(query, "subject").filter(|s| !s.is_empty());
    let client = match param(query, "clientIdentifier").filter(|s| !s.is_empty()) {
        Some(identifier) => match engine.clients.find(identifier) {
            Some((client, _)) => Some(client),
            None => {
                return Err(Fault::Caller(
                    "'clientIdentifier' does not name a registered client.".to_owned(),
                ));
            }
        },
        None => None,
    };
    let now = engine.now();
    let store = engine.store.lock();
    let mut total = 0_i64;
    let mut page: Vec<Grant> = Vec::new();
    let last = start.saturating_add(MAX_PAGE).min(end);
    for (_, g) in store.grants_in_order() {
        let wanted = g.expires() > now
            && client.as_ref().is_none_or(|c| g.client.id == c.id)
            && subject.is_none_or(|s| g.subject == s);
        if wanted {
            if total >= start && total < last {
                page.push(g.clone());
            }
            total += 1;
        }
    }
    drop(store);
    let page_end = start + page.len() as i64;
    let page: Vec<Value> = page.iter().map(entry).collect();
    Ok(Obj::empty()
        .set("start", start)
        .set("end", page_end)
        .set("totalCount", total)
        .set("client", client.as_deref().map(client_limited))
        .set("subject", subject.unwrap_or_default())
        .set("accessTokens", page)
        .done())
}

fn index(query: &[(&str, String)], name: &str) -> Result<Option<i64>, Fault> {
    param(query, name)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| Fault::Caller(format!("'{name}' is not an integer.")))
        })
        .transpose()
}

/// One token as Authlete's `AccessToken`.
fn entry(g: &Grant) -> Value {
    let properties: Vec<Value> = g
        .properties
        .iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .collect();
    let refresh = g.refresh_token.as_deref();
    Obj::empty()
        .set("accessTokenHash", token_hash(&g.access_token))
        .set("accessTokenExpiresAt", g.access_expires)
        .set(
            "refreshTokenHash",
            refresh.map(token_hash).unwrap_or_default(),
        )
        .set(
            "refreshTokenExpiresAt",
            refresh.map_or(0, |_| g.refresh_expires),
        )
        .set("createdAt", g.access_issued)
        .set("lastRefreshedAt", 0)
        .set("clientId", g.client.id)
        .set("subject", g.subject.as_str())
        .set("grantType", g.grant_type)
        .set("scopes", g.scopes.clone())
        .set("properties", properties)
        .set(
            "refreshTokenScopes",
            refresh.map_or_else(Vec::new, |_| g.refresh_scopes.clone()),
        )
        .done()
}

/// The client as Authlete's `ClientLimited`.
fn client_limited(c: &Client) -> Value {
    Obj::empty()
        .set("clientId", c.id)
        .set("clientIdAlias", c.alias.clone().unwrap_or_default())
        .set("clientIdAliasEnabled", c.alias.is_some())
        .set("clientName", c.name.as_str())
        .set("description", c.description.as_str())
        .set("clientType", c.type_name())
        .done()
}
