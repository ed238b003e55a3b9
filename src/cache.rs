//! A bounded cache of fetched answers with refresh-ahead, stale-if-error and
//! single flight, for every cache of the service (discovery and JWKS reads
//! today, introspection later).
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

use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use moka::ops::compute::{CompResult, Op};

/// The time the freshness decisions use.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
}

/// The system's monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told (tests).
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
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

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap_or_else(|e| e.into_inner())
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
    /// A background refresh of this value is under way.
    refreshing: AtomicBool,
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
        let entries = moka::future::Cache::builder()
            .max_capacity(max_weight)
            .weigher(move |k, v: &Arc<Stored<V>>| weigh(k, &v.value))
            // Nothing is served after this: let moka free it.
            .time_to_live((freshness.ttl + freshness.stale_if_error).max(Duration::from_millis(1)))
            .build();
        Self {
            entries,
            clock,
            freshness,
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
        let ttl = self.freshness.ttl;
        if let Some(stored) = self.entries.get(&key).await {
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
                        Ok(Op::Put(Arc::new(Stored {
                            value,
                            fetched: self.clock.now(),
                            refreshing: AtomicBool::new(false),
                        })))
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
        tokio::spawn(async move {
            let _ = entries
                .entry(key)
                .and_compute_with(|current| async move {
                    match fetch().await {
                        Ok(value) => Op::Put(Arc::new(Stored {
                            value,
                            fetched: clock.now(),
                            refreshing: AtomicBool::new(false),
                        })),
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
