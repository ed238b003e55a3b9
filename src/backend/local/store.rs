//! The engine's memory: tickets, pushed requests, codes and token records,
//! each with an expiry. Bounded: expired entries are swept (at most once a
//! second of engine time, and whenever the cap is reached), and no more than
//! `max_live_objects` entries live at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::authz_request::AuthzRequest;
use super::client::Client;
use super::reply::Fault;

/// An extra property on a token (Authlete `Property`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct Property {
    pub key: String,
    pub value: String,
    pub hidden: bool,
}

/// A ticket of the password grant, between `/auth/token` and
/// `/auth/token/issue` or `/auth/token/fail`.
#[derive(Debug, Clone)]
pub(super) struct PasswordTicket {
    pub client: Arc<Client>,
    pub alias_used: bool,
    pub scopes: Vec<String>,
    pub properties: Vec<Property>,
    pub access_duration: i64,
    pub refresh_duration: i64,
    /// The DPoP key of the token request (RFC 9449), for the tokens.
    pub dpop_jkt: Option<String>,
    /// The certificate of the token request (RFC 8705), for the tokens.
    pub cert_thumbprint: Option<String>,
}

/// What an authorization code stands for.
#[derive(Debug, Clone)]
pub(super) struct CodeGrant {
    pub request: Arc<AuthzRequest>,
    pub subject: String,
    /// The `sub` of ID tokens when it differs from `subject`.
    pub sub: String,
    pub auth_time: i64,
    pub acr: String,
    pub scopes: Vec<String>,
    /// Claim values to put in the ID token.
    pub id_token_claims: Map<String, Value>,
    pub properties: Vec<Property>,
    pub consented_claims: Vec<String>,
    pub access_duration: i64,
}

/// A code is single use: once redeemed, a tombstone remembers the token
/// family it started until the code would have expired, so that a replay
/// revokes every token descended from it, refreshed ones included
/// (RFC 6749 §4.1.2).
#[derive(Debug, Clone)]
pub(super) enum CodeState {
    Live(Box<CodeGrant>),
    Used(u64),
}

/// A token record: an access token and, maybe, its refresh token. Its
/// `Debug` leaves the tokens out.
#[derive(Clone)]
pub(super) struct Grant {
    pub client: Arc<Client>,
    pub alias_used: bool,
    pub subject: String,
    pub scopes: Vec<String>,
    pub refresh_scopes: Vec<String>,
    /// Authlete's `GrantType` name (`AUTHORIZATION_CODE`, ...).
    pub grant_type: &'static str,
    pub access_token: String,
    pub access_issued: i64,
    pub access_expires: i64,
    pub refresh_token: Option<String>,
    pub refresh_expires: i64,
    pub properties: Vec<Property>,
    pub resources: Vec<String>,
    pub auth_time: i64,
    pub acr: String,
    /// Claim names the client requested for the userinfo endpoint.
    pub userinfo_claims: Vec<String>,
    pub userinfo_claims_json: String,
    pub consented_claims: Vec<String>,
    /// The ID of the family's first record: refreshes keep it, so a code
    /// replay or a reused rotated refresh token revokes the whole family.
    /// 0 until stored ([`Inner::add_grant`] sets it to the record's ID).
    pub family: u64,
    /// RFC 9449: the key thumbprint the access token is bound to (`cnf.jkt`).
    pub dpop_jkt: Option<String>,
    /// The thumbprint the refresh token is bound to (public clients, §5).
    pub refresh_jkt: Option<String>,
    /// RFC 8705 §3: the `x5t#S256` the access token is bound to.
    pub cert_thumbprint: Option<String>,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("client", &self.client.id)
            .field("subject", &self.subject)
            .field("grant_type", &self.grant_type)
            .field("scopes", &self.scopes)
            .field("access_expires", &self.access_expires)
            .field("refresh_expires", &self.refresh_expires)
            .finish_non_exhaustive()
    }
}

impl Grant {
    /// When the record goes: once neither of its tokens works.
    pub(super) fn expires(&self) -> i64 {
        self.access_expires.max(self.refresh_expires)
    }
}

struct Expiring<T> {
    expires_at: i64,
    value: T,
}

/// Values by key, each with an expiry.
pub(super) struct Table<T>(HashMap<String, Expiring<T>>);

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self(HashMap::new())
    }
}

impl<T> Table<T> {
    pub(super) fn insert(&mut self, key: String, value: T, expires_at: i64) {
        self.0.insert(key, Expiring { expires_at, value });
    }

    /// Removes and returns a live value: what makes tickets single use.
    pub(super) fn take(&mut self, key: &str, now: i64) -> Option<T> {
        let entry = self.0.remove(key)?;
        (entry.expires_at > now).then_some(entry.value)
    }

    /// A live value and its expiry.
    pub(super) fn get(&self, key: &str, now: i64) -> Option<(&T, i64)> {
        self.0
            .get(key)
            .filter(|e| e.expires_at > now)
            .map(|e| (&e.value, e.expires_at))
    }

    /// Replaces the value of a live entry, keeping its expiry.
    pub(super) fn replace(&mut self, key: &str, value: T) {
        if let Some(e) = self.0.get_mut(key) {
            e.value = value;
        }
    }

    fn sweep(&mut self, now: i64) {
        self.0.retain(|_, e| e.expires_at > now);
        shrink(&mut self.0);
    }

    /// Keeps the values `keep` accepts.
    fn retain(&mut self, keep: impl Fn(&T) -> bool) {
        self.0.retain(|_, e| keep(&e.value));
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Everything the engine remembers, behind one lock.
#[derive(Default)]
pub(super) struct Inner {
    pub tickets: Table<Arc<AuthzRequest>>,
    pub pushed: Table<Arc<AuthzRequest>>,
    pub password_tickets: Table<PasswordTicket>,
    pub codes: Table<CodeState>,
    /// Device flows by device code, and their user codes (RFC 8628).
    pub device_flows: Table<super::device::Flow>,
    pub user_codes: Table<String>,
    /// Rotated refresh tokens by hash, until they would have expired, with
    /// their family: a reuse revokes it (OAuth 2.0 Security BCP §4.14.2).
    pub rotated: Table<u64>,
    /// By ID; IDs only grow, so this is creation order (the token list's).
    grants: BTreeMap<u64, Grant>,
    access: HashMap<String, u64>,
    refresh: HashMap<String, u64>,
    /// By BASE64URL(SHA-256(token)), how token management names tokens.
    access_hashes: HashMap<String, u64>,
    refresh_hashes: HashMap<String, u64>,
    next_grant: u64,
    last_sweep: i64,
    cap: usize,
}

/// How often expired entries are swept, in engine milliseconds.
const SWEEP_EVERY_MS: i64 = 1_000;

impl Inner {
    /// Makes room for one more entry: sweeps when due or full, then fails
    /// with [`Fault::Full`] if the cap is still reached.
    pub(super) fn room(&mut self, now: i64) -> Result<(), Fault> {
        if now - self.last_sweep >= SWEEP_EVERY_MS || self.live() >= self.cap {
            self.sweep(now);
        }
        if self.live() >= self.cap {
            return Err(Fault::Full(self.cap));
        }
        Ok(())
    }

    /// How many entries are held (expired ones not yet swept included).
    pub(super) fn live(&self) -> usize {
        self.tickets.len()
            + self.pushed.len()
            + self.password_tickets.len()
            + self.codes.len()
            + self.device_flows.len()
            + self.user_codes.len()
            + self.rotated.len()
            + self.grants.len()
    }

    /// How many entries of each kind are held, for the live-objects gauge.
    pub(super) fn counts(&self) -> [(&'static str, usize); 7] {
        [
            ("authorization_ticket", self.tickets.len()),
            ("pushed_request", self.pushed.len()),
            ("password_ticket", self.password_tickets.len()),
            ("authorization_code", self.codes.len()),
            ("device_flow", self.device_flows.len()),
            ("user_code", self.user_codes.len()),
            ("grant", self.grants.len()),
        ]
    }

    fn sweep(&mut self, now: i64) {
        self.last_sweep = now;
        self.tickets.sweep(now);
        self.pushed.sweep(now);
        self.password_tickets.sweep(now);
        self.codes.sweep(now);
        self.device_flows.sweep(now);
        self.user_codes.sweep(now);
        self.rotated.sweep(now);
        let expired: Vec<u64> = self
            .grants
            .iter()
            .filter(|(_, g)| g.expires() <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.remove_grant(id);
        }
        shrink(&mut self.access);
        shrink(&mut self.refresh);
        shrink(&mut self.access_hashes);
        shrink(&mut self.refresh_hashes);
    }

    /// Stores a token record; its ID names it in code tombstones.
    pub(super) fn add_grant(&mut self, mut grant: Grant) -> u64 {
        self.next_grant += 1;
        let id = self.next_grant;
        if grant.family == 0 {
            grant.family = id;
        }
        self.access.insert(grant.access_token.clone(), id);
        self.access_hashes
            .insert(token_hash(&grant.access_token), id);
        if let Some(r) = &grant.refresh_token {
            self.refresh.insert(r.clone(), id);
            self.refresh_hashes.insert(token_hash(r), id);
        }
        self.grants.insert(id, grant);
        id
    }

    /// The record whose access token has this value or hash, expired or not.
    pub(super) fn by_access_identifier(&self, identifier: &str) -> Option<(u64, &Grant)> {
        let id = self
            .access
            .get(identifier)
            .or_else(|| self.access_hashes.get(identifier))?;
        self.grants.get(id).map(|g| (*id, g))
    }

    /// The record whose refresh token has this value or hash, expired or not.
    pub(super) fn by_refresh_identifier(&self, identifier: &str) -> Option<(u64, &Grant)> {
        let id = self
            .refresh
            .get(identifier)
            .or_else(|| self.refresh_hashes.get(identifier))?;
        self.grants.get(id).map(|g| (*id, g))
    }

    /// The record of an access token, expired or not.
    pub(super) fn by_access(&self, token: &str) -> Option<(u64, &Grant)> {
        let id = *self.access.get(token)?;
        self.grants.get(&id).map(|g| (id, g))
    }

    /// The record of a refresh token, expired or not.
    pub(super) fn by_refresh(&self, token: &str) -> Option<(u64, &Grant)> {
        let id = *self.refresh.get(token)?;
        self.grants.get(&id).map(|g| (id, g))
    }

    /// The records in the order they were created (token list order).
    pub(super) fn grants_in_order(&self) -> impl Iterator<Item = (u64, &Grant)> {
        self.grants.iter().map(|(id, g)| (*id, g))
    }

    /// A record by ID.
    pub(super) fn grant(&self, id: u64) -> Option<&Grant> {
        self.grants.get(&id)
    }

    /// A record to change in place. The caller keeps the token indexes
    /// right: [`Inner::rekey_access`] when the access token value changes.
    pub(super) fn grant_mut(&mut self, id: u64) -> Option<&mut Grant> {
        self.grants.get_mut(&id)
    }

    /// Gives a record a new access token value; the old one stops working.
    pub(super) fn rekey_access(&mut self, id: u64, token: String) {
        if let Some(g) = self.grants.get_mut(&id) {
            self.access.remove(&g.access_token);
            self.access_hashes.remove(&token_hash(&g.access_token));
            self.access.insert(token.clone(), id);
            self.access_hashes.insert(token_hash(&token), id);
            g.access_token = token;
        }
    }

    /// Forgets everything issued to a deleted client: its tickets, pushed
    /// requests, codes and tokens (RFC 7592 §2.3).
    pub(super) fn forget_client(&mut self, client: i64) {
        self.tickets.retain(|r| r.client.id != client);
        self.pushed.retain(|r| r.client.id != client);
        self.password_tickets.retain(|t| t.client.id != client);
        self.codes.retain(|c| match c {
            CodeState::Live(g) => g.request.client.id != client,
            CodeState::Used(_) => true,
        });
        self.device_flows.retain(|f| f.client.id != client);
        let flows = &self.device_flows.0;
        self.user_codes
            .retain(|device_code| flows.contains_key(device_code));
        let theirs: Vec<u64> = self
            .grants
            .iter()
            .filter(|(_, g)| g.client.id == client)
            .map(|(id, _)| *id)
            .collect();
        for id in theirs {
            self.remove_grant(id);
        }
    }

    /// Revokes every record of a token family.
    pub(super) fn remove_family(&mut self, family: u64) {
        let members: Vec<u64> = self
            .grants
            .iter()
            .filter(|(_, g)| g.family == family)
            .map(|(id, _)| *id)
            .collect();
        for id in members {
            self.remove_grant(id);
        }
    }

    /// Revokes a record: its access and its refresh token.
    pub(super) fn remove_grant(&mut self, id: u64) {
        if let Some(g) = self.grants.remove(&id) {
            self.access.remove(&g.access_token);
            self.access_hashes.remove(&token_hash(&g.access_token));
            if let Some(r) = &g.refresh_token {
                self.refresh.remove(r);
                self.refresh_hashes.remove(&token_hash(r));
            }
        }
    }
}

/// The store: one lock around [`Inner`]. Every API call holds it briefly,
/// so each call sees and leaves a consistent state.
pub(super) struct Store(Mutex<Inner>);

impl Store {
    pub(super) fn new(cap: usize) -> Self {
        Self(Mutex::new(Inner {
            cap,
            ..Inner::default()
        }))
    }

    /// The state. Nothing panics while holding the lock (no `unwrap`, no
    /// indexing), so a poisoned lock can only come from a bug elsewhere;
    /// the state is still consistent then, and is reused.
    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How token lists and management APIs name a token: BASE64URL(SHA-256).
pub(super) fn token_hash(value: &str) -> String {
    super::jwt::s256(value)
}

/// Gives memory back after a sweep emptied most of a map.
fn shrink<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > 1024 && map.len() * 4 < map.capacity() {
        map.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_expire_and_take_once() {
        let mut t: Table<u8> = Table::default();
        t.insert("a".into(), 1, 100);
        assert_eq!(t.get("a", 50).map(|(v, _)| *v), Some(1));
        assert!(t.get("a", 100).is_none());
        assert_eq!(t.take("a", 50), Some(1));
        assert_eq!(t.take("a", 50), None);
    }

    #[test]
    fn the_cap_holds_until_a_sweep_frees_room() {
        let store = Store::new(2);
        let mut s = store.lock();
        for key in ["a", "b"] {
            s.room(0).unwrap();
            s.codes.insert(key.to_owned(), CodeState::Used(1), 10);
        }
        assert!(matches!(s.room(5), Err(Fault::Full(2))));
        assert!(s.room(10).is_ok());
        assert_eq!(s.live(), 0);
    }
}
