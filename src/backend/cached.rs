//! The decorator that serves the cacheable APIs ([`Api::cacheable`]) from
//! [`crate::cache`], keyed by the whole [`Call`] (API, query, body): calls
//! that differ in any field never share an entry.

use std::sync::Arc;
use std::time::Duration;

use super::{Backend, BackendError, BoxFuture, Call, Reply, ResilienceMetrics};
use crate::cache::{Cache, Clock, Freshness, Source, SystemClock};
use crate::deadline;

/// `--discovery-cache-*`.
#[derive(Clone)]
pub struct CacheOptions {
    /// How long an answer is served; zero turns the cache off.
    pub ttl: Duration,
    /// How long an expired answer stands in while Authlete fails.
    pub stale_if_error: Duration,
    /// Most bytes of answers kept.
    pub max_bytes: u64,
    /// The clock of the freshness decisions.
    pub clock: Arc<dyn Clock>,
}

impl Default for CacheOptions {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            stale_if_error: Duration::from_secs(3600),
            max_bytes: 16 * 1024 * 1024,
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for CacheOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheOptions")
            .field("ttl", &self.ttl)
            .field("stale_if_error", &self.stale_if_error)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

/// See the module documentation.
pub struct Cached {
    inner: Arc<dyn Backend>,
    /// `None` when the TTL is zero.
    cache: Option<Cache<Call, Reply>>,
    metrics: ResilienceMetrics,
}

impl Cached {
    pub fn new(inner: Arc<dyn Backend>, options: CacheOptions, metrics: ResilienceMetrics) -> Self {
        let cache = (!options.ttl.is_zero()).then(|| {
            let freshness = Freshness {
                ttl: options.ttl,
                // The last tenth of the TTL: hot entries never expire.
                refresh_ahead: options.ttl / 10,
                stale_if_error: options.stale_if_error,
            };
            Cache::new(freshness, options.max_bytes, weigh, options.clock.clone())
        });
        Self {
            inner,
            cache,
            metrics,
        }
    }

    async fn cached(&self, cache: &Cache<Call, Reply>, call: Call) -> Result<Reply, BackendError> {
        let api = call.api.path();
        let inner = self.inner.clone();
        let key = call.clone();
        // The fetch serves every waiting caller: it runs under no caller's
        // deadline (only the request timeout); each caller waits its own.
        let fetch = move || async move { deadline::scope(None, inner.call(call)).await };
        let waited = cache.get(key, fetch, BackendError::is_unavailable);
        let served = match deadline::remaining() {
            Some(left) => tokio::time::timeout(left, waited)
                .await
                .map_err(|_| BackendError::DeadlineExceeded { api })??,
            None => waited.await?,
        };
        let counter = match served.source {
            Source::Hit => &self.metrics.cache_hits,
            Source::HitRefreshing => {
                ResilienceMetrics::count(&self.metrics.cache_refreshes, api);
                &self.metrics.cache_hits
            }
            Source::Fetched => &self.metrics.cache_misses,
            Source::Stale { age, ref error } => {
                tracing::warn!(api, reason = error.reason(), %error, age_ms = age.as_millis() as u64, "Authlete failed: serving an expired cached answer (stale-if-error)");
                ResilienceMetrics::count(&self.metrics.cache_misses, api);
                &self.metrics.cache_stale_served
            }
        };
        ResilienceMetrics::count(counter, api);
        Ok(served.value)
    }
}

/// Weight of an entry: the bytes it holds.
fn weigh(call: &Call, reply: &Reply) -> u32 {
    let query: usize = call.query.iter().map(|(k, v)| k.len() + v.len()).sum();
    let size = query + call.body.as_ref().map_or(0, Vec::len) + reply.body.len();
    u32::try_from(size).unwrap_or(u32::MAX)
}

impl Backend for Cached {
    fn call<'a>(&'a self, call: Call) -> BoxFuture<'a, Result<Reply, BackendError>> {
        match &self.cache {
            Some(cache) if call.api.cacheable() => Box::pin(self.cached(cache, call)),
            _ => self.inner.call(call),
        }
    }
}
