//! The engine's memory: tickets, pushed requests, codes and token records,
//! each with an expiry. Bounded by count (`max_live_objects`) and by bytes:
//! each entry is weighed when stored, one entry may weigh at most
//! `max_request_bytes` and all of them `max_store_bytes`. Expired entries are
//! swept by a background thread once a second, and by a call that finds a
//! bound reached (at most once a second of engine time), so the hot path
//! never walks the whole store otherwise.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::authz_request::AuthzRequest;
use super::client::Client;
use super::reply::Fault;

mod table;

pub(super) use table::{ENTRY_OVERHEAD, Table};
use table::{shrink, weight};

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

    /// What the record weighs in the store: its strings, each token twice
    /// (the value and its hash index), and the overhead.
    pub(super) fn weight(&self) -> usize {
        let tokens = self.access_token.len() + self.refresh_token.as_ref().map_or(0, String::len);
        let lists = [
            &self.scopes,
            &self.refresh_scopes,
            &self.resources,
            &self.userinfo_claims,
            &self.consented_claims,
        ];
        ENTRY_OVERHEAD
            + 2 * (tokens + 2 * ENTRY_OVERHEAD / 4)
            + self.subject.len()
            + self.acr.len()
            + self.userinfo_claims_json.len()
            + lists.iter().map(|l| strings(l)).sum::<usize>()
            + properties(&self.properties)
    }
}

/// The bytes of a list of strings.
pub(super) fn strings(list: &[String]) -> usize {
    list.iter().map(String::len).sum()
}

/// The bytes of token properties.
pub(super) fn properties(list: &[Property]) -> usize {
    list.iter().map(|p| p.key.len() + p.value.len()).sum()
}

/// Which bound a full store reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Full {
    Objects(usize),
    Bytes(usize),
}

/// The store's bounds (engine settings).
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub max_live_objects: usize,
    pub max_request_bytes: usize,
    pub max_store_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_live_objects: usize::MAX,
            max_request_bytes: usize::MAX,
            max_store_bytes: usize::MAX,
        }
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
    /// CIBA requests by ticket, and their `auth_req_id`s (to the ticket).
    pub backchannel: Table<super::ciba::Flow>,
    pub auth_req_ids: Table<String>,
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
    /// The weight of each token record, and their sum.
    grant_bytes: HashMap<u64, usize>,
    grants_total: usize,
    next_grant: u64,
    /// When a call last swept, in engine time; `None` before the first.
    last_sweep: Option<i64>,
    limits: Limits,
}

/// How often expired entries are swept, in engine milliseconds.
const SWEEP_EVERY_MS: i64 = 1_000;

impl Inner {
    /// Makes room for one more entry weighing `bytes`: refuses one heavier
    /// than `max_request_bytes` ([`Fault::TooLarge`]); when a bound is
    /// reached, sweeps (unless a call swept less than a second of engine
    /// time ago, so a full store costs no walk per call) and fails with
    /// [`Fault::Full`] if it is still reached.
    pub(super) fn room(&mut self, now: i64, bytes: usize) -> Result<(), Fault> {
        self.fits(bytes)?;
        let due = self
            .last_sweep
            .is_none_or(|last| now.saturating_sub(last) >= SWEEP_EVERY_MS);
        if self.reached(bytes).is_some() && due {
            self.last_sweep = Some(now);
            self.sweep(now);
        }
        match self.reached(bytes) {
            Some(full) => Err(Fault::Full(full)),
            None => Ok(()),
        }
    }

    /// Refuses an entry heavier than `max_request_bytes`.
    pub(super) fn fits(&self, bytes: usize) -> Result<(), Fault> {
        match bytes > self.limits.max_request_bytes {
            true => Err(Fault::TooLarge(self.limits.max_request_bytes)),
            false => Ok(()),
        }
    }

    /// The bound one more entry of `bytes` would pass, if any.
    fn reached(&self, bytes: usize) -> Option<Full> {
        if self.live() >= self.limits.max_live_objects {
            return Some(Full::Objects(self.limits.max_live_objects));
        }
        let after = self.bytes().saturating_add(weight("", bytes));
        (after > self.limits.max_store_bytes).then_some(Full::Bytes(self.limits.max_store_bytes))
    }

    /// The weight of everything held (expired entries not yet swept included).
    pub(super) fn bytes(&self) -> usize {
        self.tickets.bytes
            + self.pushed.bytes
            + self.password_tickets.bytes
            + self.codes.bytes
            + self.device_flows.bytes
            + self.user_codes.bytes
            + self.backchannel.bytes
            + self.auth_req_ids.bytes
            + self.rotated.bytes
            + self.grants_total
    }

    /// How many entries are held (expired ones not yet swept included).
    pub(super) fn live(&self) -> usize {
        self.tickets.len()
            + self.pushed.len()
            + self.password_tickets.len()
            + self.codes.len()
            + self.device_flows.len()
            + self.user_codes.len()
            + self.backchannel.len()
            + self.auth_req_ids.len()
            + self.rotated.len()
            + self.grants.len()
    }

    /// How many entries of each kind are held, for the live-objects gauge.
    pub(super) fn counts(&self) -> [(&'static str, usize); 9] {
        [
            ("authorization_ticket", self.tickets.len()),
            ("pushed_request", self.pushed.len()),
            ("password_ticket", self.password_tickets.len()),
            ("authorization_code", self.codes.len()),
            ("device_flow", self.device_flows.len()),
            ("user_code", self.user_codes.len()),
            ("backchannel_request", self.backchannel.len()),
            ("auth_req_id", self.auth_req_ids.len()),
            ("grant", self.grants.len()),
        ]
    }

    /// Drops every expired entry.
    pub(super) fn sweep(&mut self, now: i64) {
        self.tickets.sweep(now);
        self.pushed.sweep(now);
        self.password_tickets.sweep(now);
        self.codes.sweep(now);
        self.device_flows.sweep(now);
        self.user_codes.sweep(now);
        self.backchannel.sweep(now);
        self.auth_req_ids.sweep(now);
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
        shrink(&mut self.grant_bytes);
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
        let bytes = grant.weight();
        self.grants_total += bytes;
        self.grant_bytes.insert(id, bytes);
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
        let flows = &self.device_flows.map;
        self.user_codes
            .retain(|device_code| flows.contains_key(device_code));
        self.backchannel.retain(|f| f.client.id != client);
        let requests = &self.backchannel.map;
        self.auth_req_ids
            .retain(|ticket| requests.contains_key(ticket));
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
            self.grants_total -= self.grant_bytes.remove(&id).unwrap_or(0);
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
    pub(super) fn new(limits: Limits) -> Self {
        Self(Mutex::new(Inner {
            limits,
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

/// Starts the background sweep of `store`: a thread that drops expired
/// entries once a second (engine time from `clock`), holding the lock only
/// for the sweep, and that ends once the engine is dropped. Without the
/// thread (it could not be started) calls still sweep when a bound is reached.
pub(super) fn sweeper(store: Store, clock: Arc<dyn super::clock::Clock>) -> Arc<Store> {
    let store = Arc::new(store);
    let weak = Arc::downgrade(&store);
    let sweep = move || {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(SWEEP_EVERY_MS as u64));
            let Some(store) = weak.upgrade() else { return };
            store.lock().sweep(clock.now_ms());
        }
    };
    let started = std::thread::Builder::new()
        .name("local-engine-sweep".to_owned())
        .spawn(sweep);
    if let Err(e) = started {
        tracing::warn!(error = %e, "local engine: no background sweep thread");
    }
    store
}

/// How token lists and management APIs name a token: BASE64URL(SHA-256).
pub(super) fn token_hash(value: &str) -> String {
    super::jwt::s256(value)
}

#[cfg(test)]
mod tests;
