//! Counters of the resilience decorators (retries, the breaker, the cache),
//! as prometheus-client metrics. Labels are Authlete API paths: a bounded
//! vocabulary, never request values.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The `api` label: an Authlete API path such as `/service/configuration`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ApiLabel {
    pub api: &'static str,
}

/// What the decorators count. Cheap to clone: the metrics are shared.
#[derive(Debug, Clone, Default)]
pub struct ResilienceMetrics {
    /// Calls repeated after a 503, 429 or connection failure.
    pub retries: Family<ApiLabel, Counter>,
    /// Retries the budget refused.
    pub retry_budget_exhausted: Family<ApiLabel, Counter>,
    /// Calls failed at once because the breaker was open.
    pub breaker_rejections: Family<ApiLabel, Counter>,
    /// 0 closed, 1 open, 2 half-open (one probe in flight).
    pub breaker_state: Gauge,
    /// Answers served from the cache.
    pub cache_hits: Family<ApiLabel, Counter>,
    /// Answers fetched because the cache had none (or only an expired one).
    pub cache_misses: Family<ApiLabel, Counter>,
    /// Expired answers served because Authlete failed (stale-if-error).
    pub cache_stale_served: Family<ApiLabel, Counter>,
    /// Background refreshes of entries close to expiry.
    pub cache_refreshes: Family<ApiLabel, Counter>,
}

impl ResilienceMetrics {
    /// Registers every metric under `authlete_grpc_`.
    pub fn register(&self, registry: &mut Registry) {
        let counters = [
            (
                "authlete_grpc_authlete_retries",
                "Authlete calls retried after a 503, 429 or connection failure",
                &self.retries,
            ),
            (
                "authlete_grpc_authlete_retry_budget_exhausted",
                "Authlete retries refused by the retry budget",
                &self.retry_budget_exhausted,
            ),
            (
                "authlete_grpc_authlete_breaker_rejections",
                "Authlete calls failed at once while the circuit breaker was open",
                &self.breaker_rejections,
            ),
            (
                "authlete_grpc_cache_hits",
                "Authlete answers served from the cache",
                &self.cache_hits,
            ),
            (
                "authlete_grpc_cache_misses",
                "Authlete answers fetched for want of a fresh cache entry",
                &self.cache_misses,
            ),
            (
                "authlete_grpc_cache_stale_served",
                "expired cache entries served because Authlete failed",
                &self.cache_stale_served,
            ),
            (
                "authlete_grpc_cache_refreshes",
                "background refreshes of cache entries close to expiry",
                &self.cache_refreshes,
            ),
        ];
        for (name, help, family) in counters {
            registry.register(name, help, family.clone());
        }
        registry.register(
            "authlete_grpc_authlete_breaker_state",
            "circuit breaker towards Authlete: 0 closed, 1 open, 2 half-open",
            self.breaker_state.clone(),
        );
    }

    /// Increments `family` for `api`.
    pub(crate) fn count(family: &Family<ApiLabel, Counter>, api: &'static str) {
        family.get_or_create(&ApiLabel { api }).inc();
    }

    /// The count of `family` for `api` (tests and diagnostics).
    pub fn value(family: &Family<ApiLabel, Counter>, api: &'static str) -> u64 {
        family.get_or_create(&ApiLabel { api }).get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_metrics_move_in_the_exposition() {
        let metrics = ResilienceMetrics::default();
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        ResilienceMetrics::count(&metrics.retries, "/auth/introspection");
        ResilienceMetrics::count(&metrics.cache_hits, "/service/configuration");
        ResilienceMetrics::count(&metrics.cache_hits, "/service/configuration");
        metrics.breaker_state.set(1);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        for line in [
            r#"authlete_grpc_authlete_retries_total{api="/auth/introspection"} 1"#,
            r#"authlete_grpc_cache_hits_total{api="/service/configuration"} 2"#,
            "authlete_grpc_authlete_breaker_state 1",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
    }
}
