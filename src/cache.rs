//! A bounded cache of fetched answers with refresh-ahead, stale-if-error and
//! single flight, for every cache of the service (discovery and JWKS reads,
//! and introspection, whose entries each have a lifetime of their own).
//!
//! moka bounds the size (by weight), evicts what can no longer be served, and
//! serialises the fetches of one key (its per-key compute lock: one fetch for
//! any number of concurrent misses). Freshness is decided here, against an
//! injectable [`Clock`], from the instant each value was fetched:
//!
//! - younger than `ttl - refresh_ahead`: served;
//! - younger than `ttl`: served, and refreshed once in the background;
//! - older: fetched again; if that fails with an error the caller allows, the
//!   old value is served while it is younger than `ttl + stale_if_error`.
//!
//! [`Cache::get_or_fetch`] is the other way in, for answers that must never
//! be served late (introspection): each value is kept for the lifetime its
//! fetch gives (at most `ttl`), or not at all, and concurrent callers of one
//! key share one fetch whatever its outcome, errors included.

use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use moka::Expiry;
use moka::ops::compute::{CompResult, Op};

pub use moka::notification::RemovalCause;

/// The time the freshness decisions use.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
    /// The wall clock, for expiry times that answers give since the epoch.
    fn wall(&self) -> SystemTime;
}

/// The system's monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told (tests).
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    wall_start: SystemTime,
    offset: Mutex<Duration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            wall_start: SystemTime::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }
}

impl ManualClock {
    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}

impl ManualClock {
    fn offset(&self) -> Duration {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.offset()
    }
    fn wall(&self) -> SystemTime {
        self.wall_start + self.offset()
    }
}

/// How long values are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// How long a value is served as fresh.
    pub ttl: Duration,
    /// How long before expiry a hit starts a background refresh.
    pub refresh_ahead: Duration,
    /// How long after expiry a value stands in for a failed fetch.
    pub stale_if_error: Duration,
}

/// Where a served value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source<E> {
    /// The cache, fresh.
    Hit,
    /// The cache, fresh, and a background refresh started.
    HitRefreshing,
    /// A fetch (no value, or an expired one).
    Fetched,
    /// The cache, expired, because the fetch failed with `error`.
    Stale { age: Duration, error: E },
}

/// A value and where it came from.
#[derive(Debug, Clone)]
pub struct Served<V, E> {
    pub value: V,
    pub source: Source<E>,
}

struct Stored<V> {
    value: V,
    fetched: Instant,
    /// How long after `fetched` the value is served as fresh: the TTL, or
    /// less when the fetch said so ([`Cache::get_or_fetch`]).
    fresh_for: Duration,
    /// A background refresh of this value is under way.
    refreshing: AtomicBool,
}

impl<V> Stored<V> {
    fn new(value: V, fetched: Instant, fresh_for: Duration) -> Arc<Self> {
        Arc::new(Self {
            value,
            fetched,
            fresh_for,
            refreshing: AtomicBool::new(false),
        })
    }
}

/// Tells moka when it may free an entry: nothing is served after its
/// freshness plus the stale-if-error window.
struct Lifetime {
    stale_if_error: Duration,
}

impl Lifetime {
    fn of<V>(&self, stored: &Stored<V>) -> Option<Duration> {
        Some((stored.fresh_for + self.stale_if_error).max(Duration::from_millis(1)))
    }
}

impl<K, V> Expiry<K, Arc<Stored<V>>> for Lifetime {
    fn expire_after_create(&self, _: &K, v: &Arc<Stored<V>>, _: Instant) -> Option<Duration> {
        self.of(v)
    }
    fn expire_after_update(
        &self,
        _: &K,
        v: &Arc<Stored<V>>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.of(v)
    }
}

/// Told of every entry the cache drops, with why.
pub type Listener<K, V> = Arc<dyn Fn(&K, &V, RemovalCause) + Send + Sync>;

/// What a fetch of [`Cache::get_or_fetch`] produced: a value, and how long it
/// may be served (zero: hand it to the callers waiting now, keep nothing).
#[derive(Debug, Clone)]
pub struct Fetched<V> {
    pub value: V,
    pub keep_for: Duration,
}

/// How [`Cache::get_or_fetch`] answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// From the cache.
    Hit,
    /// From the fetch of a concurrent caller of the same key.
    Shared,
    /// From this caller's fetch.
    Fetched,
}

/// A result to hand to the callers waiting for one fetch without keeping it.
enum Unkept<V, E> {
    Value(V),
    Error(E),
}

/// See the module documentation.
pub struct Cache<K, V> {
    entries: moka::future::Cache<K, Arc<Stored<V>>>,
    clock: Arc<dyn Clock>,
    freshness: Freshness,
}

impl<K, V> Cache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache of at most `max_weight` (the sum of `weigh` over the entries).
    pub fn new(
        freshness: Freshness,
        max_weight: u64,
        weigh: fn(&K, &V) -> u32,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::with_listener(freshness, max_weight, weigh, clock, None)
    }

    /// As [`Cache::new`], telling `listener` of every entry dropped.
    pub fn with_listener(
        freshness: Freshness,
        max_weight: u64,
        weigh: fn(&K, &V) -> u32,
        clock: Arc<dyn Clock>,
        listener: Option<Listener<K, V>>,
    ) -> Self {
        let mut builder = moka::future::Cache::builder()
            .max_capacity(max_weight)
            .weigher(move |k, v: &Arc<Stored<V>>| weigh(k, &v.value))
            .expire_after(Lifetime {
                stale_if_error: freshness.stale_if_error,
            });
        if let Some(listener) = listener {
            builder = builder.eviction_listener(move |k: Arc<K>, v: Arc<Stored<V>>, cause| {
                listener(&k, &v.value, cause)
            });
        }
        Self {
            entries: builder.build(),
            clock,
            freshness,
        }
    }

    /// Drops the entry of `key`, if any.
    pub async fn invalidate(&self, key: &K) {
        self.entries.invalidate(key).await;
    }

    /// Drops every entry.
    pub fn invalidate_all(&self) {
        self.entries.invalidate_all();
    }

    /// The value of `key` while it is fresh; an expired one is dropped
    /// (`true` in the second place).
    pub async fn fresh(&self, key: &K) -> (Option<V>, bool) {
        let Some(stored) = self.entries.get(key).await else {
            return (None, false);
        };
        if self.is_fresh(&stored) {
            return (Some(stored.value.clone()), false);
        }
        // Only this entry: a fresher one may have replaced it meanwhile.
        let _ = self
            .entries
            .entry(key.clone())
            .and_compute_with(|current| async move {
                match current {
                    Some(e) if Arc::ptr_eq(e.value(), &stored) => Op::Remove,
                    _ => Op::Nop,
                }
            })
            .await;
        (None, true)
    }

    fn is_fresh(&self, stored: &Stored<V>) -> bool {
        self.clock.now().saturating_duration_since(stored.fetched) < stored.fresh_for
    }

    /// The value of `key` while fresh, else from `fetch`, run once for every
    /// concurrent caller of `key`; they all get its result, error or value,
    /// and the value is kept for its `keep_for` (at most the TTL). Never an
    /// expired value, never a kept error.
    pub async fn get_or_fetch<E, F, Fut>(&self, key: K, fetch: F) -> (Result<V, E>, Lookup)
    where
        E: Clone + Send + Sync + 'static,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Fetched<V>, E>>,
    {
        // A found entry can be expired only when the clock jumped between
        // the two looks; a few rounds settle it.
        for _ in 0..3 {
            if let (Some(value), _) = self.fresh(&key).await {
                return (Ok(value), Lookup::Hit);
            }
            let ran = AtomicBool::new(false);
            let init = async {
                ran.store(true, Ordering::Relaxed);
                match fetch().await {
                    Ok(f) if !f.keep_for.is_zero() => {
                        let fresh_for = f.keep_for.min(self.freshness.ttl);
                        Ok(Stored::new(f.value, self.clock.now(), fresh_for))
                    }
                    Ok(f) => Err(Unkept::Value(f.value)),
                    Err(e) => Err(Unkept::Error(e)),
                }
            };
            let result = self
                .entries
                .entry(key.clone())
                .or_try_insert_with(init)
                .await;
            let lookup = if ran.load(Ordering::Relaxed) {
                Lookup::Fetched
            } else {
                Lookup::Shared
            };
            match result {
                Ok(entry) if entry.is_fresh() || self.is_fresh(entry.value()) => {
                    return (Ok(entry.into_value().value.clone()), lookup);
                }
                Ok(_) => continue,
                Err(unkept) => {
                    return match &*unkept {
                        Unkept::Value(v) => (Ok(v.clone()), lookup),
                        Unkept::Error(e) => (Err(e.clone()), lookup),
                    };
                }
            }
        }
        match fetch().await {
            Ok(f) => (Ok(f.value), Lookup::Fetched),
            Err(e) => (Err(e), Lookup::Fetched),
        }
    }

    /// The value of `key`: from the cache while fresh, else from `fetch`
    /// (once for all concurrent callers). `stale_ok` says which fetch errors
    /// an expired value may stand in for.
    pub async fn get<E, F, Fut>(
        &self,
        key: K,
        fetch: F,
        stale_ok: fn(&E) -> bool,
    ) -> Result<Served<V, E>, E>
    where
        E: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        if let Some(stored) = self.entries.get(&key).await {
            let ttl = stored.fresh_for;
            let age = self.clock.now().saturating_duration_since(stored.fetched);
            if age < ttl.saturating_sub(self.freshness.refresh_ahead) {
                return Ok(served(&stored, Source::Hit));
            }
            if age < ttl {
                let source = if stored.refreshing.swap(true, Ordering::AcqRel) {
                    Source::Hit
                } else {
                    self.refresh(key, fetch);
                    Source::HitRefreshing
                };
                return Ok(served(&stored, source));
            }
        }
        self.fetch(key, fetch, stale_ok).await
    }

    /// The fetch path, serialised per key: a caller that waited for another's
    /// fetch finds its value fresh and serves it.
    async fn fetch<E, F, Fut>(
        &self,
        key: K,
        fetch: F,
        stale_ok: fn(&E) -> bool,
    ) -> Result<Served<V, E>, E>
    where
        E: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let mut source = Source::Hit;
        let source_out = &mut source;
        let result = self
            .entries
            .entry(key)
            .and_try_compute_with(|current| async move {
                let now = self.clock.now();
                let age = current
                    .as_ref()
                    .map(|e| now.saturating_duration_since(e.value().fetched));
                if age.is_some_and(|age| age < self.freshness.ttl) {
                    return Ok(Op::Nop);
                }
                match fetch().await {
                    Ok(value) => {
                        *source_out = Source::Fetched;
                        Ok(Op::Put(Stored::new(
                            value,
                            self.clock.now(),
                            self.freshness.ttl,
                        )))
                    }
                    Err(error) => match age {
                        Some(age)
                            if age < self.freshness.ttl + self.freshness.stale_if_error
                                && stale_ok(&error) =>
                        {
                            *source_out = Source::Stale { age, error };
                            Ok(Op::Nop)
                        }
                        _ => Err(error),
                    },
                }
            })
            .await?;
        match result {
            CompResult::Inserted(e) | CompResult::ReplacedWith(e) | CompResult::Unchanged(e) => {
                Ok(served(e.value(), source))
            }
            CompResult::Removed(_) | CompResult::StillNone(_) => {
                unreachable!("the compute closure never removes and only skips an existing entry")
            }
        }
    }

    /// Refreshes `key` in the background; a failure leaves the value as it
    /// was, for the next hit to try again.
    fn refresh<E, F, Fut>(&self, key: K, fetch: F)
    where
        E: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        let entries = self.entries.clone();
        let clock = self.clock.clone();
        let ttl = self.freshness.ttl;
        tokio::spawn(async move {
            let _ = entries
                .entry(key)
                .and_compute_with(|current| async move {
                    match fetch().await {
                        Ok(value) => Op::Put(Stored::new(value, clock.now(), ttl)),
                        Err(_) => {
                            if let Some(e) = current {
                                e.value().refreshing.store(false, Ordering::Release);
                            }
                            Op::Nop
                        }
                    }
                })
                .await;
        });
    }
}

fn served<V: Clone, E>(stored: &Stored<V>, source: Source<E>) -> Served<V, E> {
    Served {
        value: stored.value.clone(),
        source,
    }
}
