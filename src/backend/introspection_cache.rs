//! The introspection cache: a [`Backend`] decorator that serves repeated
//! `/auth/introspection` calls from [`crate::cache`], so that every caller of
//! the API (the `Introspection` RPC and the authorizer edges alike) gets it.
//!
//! - The key is the SHA-256 of the whole call (API and JSON body: token,
//!   scopes, resources, subject, ACR values, max age, certificate, htm/htu,
//!   target URI, ...). The body is serde's encoding of one struct, whose
//!   member order is fixed, so equal requests give equal keys; the token
//!   itself is never kept as a key.
//! - Only `OK` answers are kept, for the TTL and never past the token's
//!   `expiresAt`. Errors and other actions reach the callers waiting at the
//!   time (one Authlete call for all of them) and are not kept; an expired
//!   entry is never served, whatever Authlete does.
//! - A call carrying a DPoP proof goes to Authlete: a proof is single-use.
//! - `/auth/revocation`, `/auth/token/revoke` and `/auth/token/delete`
//!   through this process evict the entries they may concern (`revoked`).

mod index;
mod metrics;
mod revoked;

pub use metrics::IntrospectionCacheMetrics;

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use serde::Deserialize;
use tracing::Instrument as _;

use super::{Api, Backend, BackendError, BoxFuture, Call, Reply};
use crate::cache::{Cache, Clock, Fetched, Freshness, Lookup, RemovalCause, SystemClock};
use crate::deadline;
use index::{Index, Listing};
use revoked::{Revoked, took_effect};

/// A cache key: SHA-256 of the call.
pub(crate) type Key = [u8; 32];
/// SHA-256 of a token.
pub(crate) type TokenHash = [u8; 32];

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in parts {
        context.update(part);
    }
    let mut out = [0; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

pub(crate) fn token_hash(token: &str) -> TokenHash {
    sha256(&[token.as_bytes()])
}

/// `--introspection-cache-*`.
#[derive(Clone)]
pub struct IntrospectionCacheOptions {
    /// How long an `OK` answer is served at most; zero turns the cache off.
    pub ttl: Duration,
    /// Most bytes of answers (and their index) kept.
    pub max_bytes: u64,
    /// The clock of the expiry decisions.
    pub clock: Arc<dyn Clock>,
}

impl Default for IntrospectionCacheOptions {
    fn default() -> Self {
        Self {
            ttl: Duration::ZERO,
            max_bytes: 16 * 1024 * 1024,
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for IntrospectionCacheOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionCacheOptions")
            .field("ttl", &self.ttl)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

/// A kept answer, or one handed to the waiting callers only (no listing).
#[derive(Clone)]
struct Entry {
    reply: Reply,
    listing: Option<Arc<Listing>>,
}

/// See the module documentation.
pub struct IntrospectionCache {
    inner: Arc<dyn Backend>,
    /// `None` when the TTL is zero.
    shared: Option<Arc<Shared>>,
}

struct Shared {
    inner: Arc<dyn Backend>,
    cache: Cache<Key, Entry>,
    index: Arc<Index>,
    /// Fills hold it shared from before their Authlete call until their entry
    /// is in the index and the cache; an eviction holds it alone. So no answer
    /// fetched before a revocation lands in the cache after its eviction.
    fills: tokio::sync::RwLock<()>,
    next_fill: AtomicU64,
    clock: Arc<dyn Clock>,
    metrics: IntrospectionCacheMetrics,
}

impl IntrospectionCache {
    pub fn new(
        inner: Arc<dyn Backend>,
        options: IntrospectionCacheOptions,
        metrics: IntrospectionCacheMetrics,
    ) -> Self {
        let shared = (!options.ttl.is_zero()).then(|| {
            let index = Arc::new(Index::default());
            let freshness = Freshness {
                ttl: options.ttl,
                refresh_ahead: Duration::ZERO,
                stale_if_error: Duration::ZERO,
            };
            let listener = listener(index.clone(), metrics.clone());
            Arc::new(Shared {
                inner: inner.clone(),
                cache: Cache::with_listener(
                    freshness,
                    options.max_bytes,
                    weigh,
                    options.clock.clone(),
                    Some(listener),
                ),
                index,
                fills: tokio::sync::RwLock::new(()),
                next_fill: AtomicU64::new(0),
                clock: options.clock,
                metrics,
            })
        });
        Self { inner, shared }
    }
}

/// Unlists dropped entries; counts the drops the cache decided itself.
fn listener(
    index: Arc<Index>,
    metrics: IntrospectionCacheMetrics,
) -> crate::cache::Listener<Key, Entry> {
    Arc::new(move |key, entry, cause| {
        if let Some(listing) = &entry.listing {
            index.remove(key, listing);
        }
        match cause {
            RemovalCause::Expired => metrics.evicted("expired", 1),
            RemovalCause::Size => metrics.evicted("size", 1),
            RemovalCause::Explicit | RemovalCause::Replaced => {}
        }
    })
}

/// Weight of an entry: the bytes it holds, and a share for its listings.
fn weigh(_: &Key, entry: &Entry) -> u32 {
    let clients = entry
        .listing
        .as_ref()
        .map_or(0, |l| l.clients.iter().map(|c| c.len() + 64).sum());
    let size = 256 + entry.reply.body.len() + clients;
    u32::try_from(size).unwrap_or(u32::MAX)
}

impl Backend for IntrospectionCache {
    fn call<'a>(&'a self, call: Call) -> BoxFuture<'a, Result<Reply, BackendError>> {
        let Some(shared) = &self.shared else {
            return self.inner.call(call);
        };
        if call.api == Api::Introspection {
            return Box::pin(shared.clone().introspect(call));
        }
        match Revoked::of(&call) {
            Some(revoked) => Box::pin(shared.clone().revoking(call, revoked)),
            None => self.inner.call(call),
        }
    }
}

/// The members of an introspection request the cache looks at.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, default)]
    token: Cow<'a, str>,
    #[serde(borrow, default)]
    dpop: Cow<'a, str>,
}

/// The members of an `OK` answer that decide how long it is kept, and the
/// client identifiers it is listed under.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Facts<'a> {
    #[serde(borrow)]
    action: Option<Cow<'a, str>>,
    expires_at: Option<i64>,
    client_id: Option<i64>,
    #[serde(borrow)]
    client_id_alias: Option<Cow<'a, str>>,
    #[serde(borrow)]
    client_entity_id: Option<Cow<'a, str>>,
}

impl Shared {
    async fn introspect(self: Arc<Self>, call: Call) -> Result<Reply, BackendError> {
        let body = call.body.as_deref().unwrap_or_default();
        let token = match serde_json::from_slice::<Probe>(body) {
            Ok(p) if p.dpop.is_empty() => token_hash(&p.token),
            Ok(_) => return self.bypass("dpop", call).await,
            Err(_) => return self.bypass("unreadable", call).await,
        };
        let key = sha256(&[call.api.path().as_bytes(), &[0], body]);
        match self.cache.fresh(&key).await {
            (Some(entry), _) => {
                self.metrics.hit("cache");
                return Ok(entry.reply);
            }
            (None, true) => self.metrics.evicted("expired", 1),
            (None, false) => {}
        }
        // On a task of its own: a caller that gives up (its deadline) leaves
        // neither a half-made entry nor the other callers without their fetch.
        let api = call.api.path();
        let fill = tokio::spawn(
            self.fill(key, token, call)
                .instrument(tracing::Span::current()),
        );
        let joined = match deadline::remaining() {
            Some(left) => tokio::time::timeout(left, fill)
                .await
                .map_err(|_| BackendError::DeadlineExceeded { api })?,
            None => fill.await,
        };
        joined.map_err(|_| BackendError::Other {
            api,
            detail: "the introspection cache's fetch stopped".to_owned(),
        })?
    }

    async fn bypass(&self, reason: &'static str, call: Call) -> Result<Reply, BackendError> {
        self.metrics.bypass(reason);
        self.inner.call(call).await
    }

    async fn fill(
        self: Arc<Self>,
        key: Key,
        token: TokenHash,
        call: Call,
    ) -> Result<Reply, BackendError> {
        let _fills = self.fills.read().await;
        let fetch = || self.fetch(key, token, call.clone());
        let (result, lookup) = self.cache.get_or_fetch(key, fetch).await;
        match (lookup, &result) {
            (Lookup::Hit, _) => self.metrics.hit("cache"),
            (Lookup::Shared, _) => self.metrics.hit("shared"),
            (Lookup::Fetched, Err(_)) => self.metrics.miss("error"),
            (Lookup::Fetched, Ok(e)) if e.listing.is_some() => self.metrics.miss("stored"),
            (Lookup::Fetched, Ok(_)) => self.metrics.miss("not_stored"),
        }
        result.map(|e| e.reply)
    }

    /// One Authlete call; an answer to keep is listed before the cache holds it.
    async fn fetch(
        &self,
        key: Key,
        token: TokenHash,
        call: Call,
    ) -> Result<Fetched<Entry>, BackendError> {
        let reply = self.inner.call(call).await?;
        let Some((keep_for, clients)) = self.keep(&reply) else {
            let value = Entry {
                reply,
                listing: None,
            };
            return Ok(Fetched {
                value,
                keep_for: Duration::ZERO,
            });
        };
        let listing = Listing {
            token,
            clients,
            fill: self.next_fill.fetch_add(1, Ordering::Relaxed),
        };
        self.index.add(key, &listing);
        let listing = Some(Arc::new(listing));
        Ok(Fetched {
            value: Entry { reply, listing },
            keep_for,
        })
    }

    /// How long `reply` may be kept (`OK` only, until `expiresAt` at most),
    /// and its client's identifiers; `None` to keep it not at all.
    fn keep(&self, reply: &Reply) -> Option<(Duration, Vec<String>)> {
        let facts: Facts = serde_json::from_str(&reply.body).ok()?;
        if facts.action.as_deref() != Some("OK") {
            return None;
        }
        let now_ms = self
            .clock
            .wall()
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_millis();
        let expires_ms = u128::try_from(facts.expires_at?).ok()?;
        let left = Duration::from_millis(u64::try_from(expires_ms.checked_sub(now_ms)?).ok()?);
        if left.is_zero() {
            return None;
        }
        let mut clients: Vec<String> = facts
            .client_id
            .filter(|&id| id != 0)
            .map(|id| id.to_string())
            .into_iter()
            .collect();
        clients.extend(
            [facts.client_id_alias, facts.client_entity_id]
                .into_iter()
                .flatten()
                .filter(|c| !c.is_empty())
                .map(Cow::into_owned),
        );
        Some((left, clients))
    }

    /// A revoking call, then the eviction of what it may have revoked; the
    /// eviction happens even if the caller goes away meanwhile.
    async fn revoking(
        self: Arc<Self>,
        call: Call,
        revoked: Revoked,
    ) -> Result<Reply, BackendError> {
        let api = call.api;
        let mut guard = EvictOnDrop {
            shared: self.clone(),
            pending: Some((api, revoked)),
        };
        let result = self.inner.call(call).await;
        let pending = guard.pending.take();
        if let Some((api, revoked)) = pending.filter(|_| took_effect(api, &result)) {
            // Its own task, so that a caller leaving now does not stop it.
            let _ = tokio::spawn(self.clone().evict(api, revoked)).await;
        }
        result
    }

    async fn evict(self: Arc<Self>, api: Api, revoked: Revoked) {
        let cause = match api {
            Api::Revocation => "revocation",
            Api::TokenRevoke => "token_revoke",
            _ => "token_delete",
        };
        let _alone = self.fills.write().await;
        match revoked.keys(&self.index) {
            Some(keys) => {
                let keys: HashSet<Key> = keys.into_iter().collect();
                for key in &keys {
                    self.cache.invalidate(key).await;
                }
                self.metrics.evicted(cause, keys.len() as u64);
            }
            None => {
                let held = self.index.len();
                self.index.clear();
                self.cache.invalidate_all();
                self.metrics.evicted(cause, held as u64);
            }
        }
    }
}

/// Evicts on drop what a revoking call that did not finish may have revoked.
struct EvictOnDrop {
    shared: Arc<Shared>,
    pending: Option<(Api, Revoked)>,
}

impl Drop for EvictOnDrop {
    fn drop(&mut self) {
        if let (Some((api, revoked)), Ok(runtime)) =
            (self.pending.take(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(self.shared.clone().evict(api, revoked));
        }
    }
}

#[cfg(test)]
mod tests;
