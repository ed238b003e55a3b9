//! Counters of the introspection cache (prometheus-client). Every label
//! comes from a closed vocabulary, never from a request or a token.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// `source`: `cache`, or `shared` (the fetch of a concurrent caller).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct HitLabel {
    pub source: &'static str,
}

/// `result`: `stored`, `not_stored` (not `OK`, or already expired) or `error`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct MissLabel {
    pub result: &'static str,
}

/// `reason`: `dpop` (a proof is single-use: it must reach Authlete), or
/// `unreadable` (a body that is not the JSON of an introspection request).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct BypassLabel {
    pub reason: &'static str,
}

/// `cause`: `revocation`, `token_revoke`, `token_delete` (entries taken out
/// by those calls; `all` when one of them emptied the whole cache),
/// `expired` or `size`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct EvictionLabel {
    pub cause: &'static str,
}

/// What the cache counts. Cheap to clone: the metrics are shared.
#[derive(Debug, Clone, Default)]
pub struct IntrospectionCacheMetrics {
    pub hits: Family<HitLabel, Counter>,
    pub misses: Family<MissLabel, Counter>,
    pub bypasses: Family<BypassLabel, Counter>,
    pub evictions: Family<EvictionLabel, Counter>,
}

impl IntrospectionCacheMetrics {
    /// Registers every family under `authlete_grpc_introspection_cache_`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "authlete_grpc_introspection_cache_hits",
            "Introspection answers served without an Authlete call of their own",
            self.hits.clone(),
        );
        registry.register(
            "authlete_grpc_introspection_cache_misses",
            "Introspection calls made to Authlete by the cache, by what became of the answer",
            self.misses.clone(),
        );
        registry.register(
            "authlete_grpc_introspection_cache_bypasses",
            "Introspection calls sent to Authlete without looking at the cache",
            self.bypasses.clone(),
        );
        registry.register(
            "authlete_grpc_introspection_cache_evictions",
            "Introspection cache entries dropped, by cause",
            self.evictions.clone(),
        );
    }

    pub fn hit(&self, source: &'static str) {
        self.hits.get_or_create(&HitLabel { source }).inc();
    }
    pub fn miss(&self, result: &'static str) {
        self.misses.get_or_create(&MissLabel { result }).inc();
    }
    pub fn bypass(&self, reason: &'static str) {
        self.bypasses.get_or_create(&BypassLabel { reason }).inc();
    }
    pub fn evicted(&self, cause: &'static str, n: u64) {
        self.evictions
            .get_or_create(&EvictionLabel { cause })
            .inc_by(n);
    }

    /// Counts for tests: hits (any source), misses (any result), bypasses,
    /// and evictions of `cause`.
    pub fn hits_total(&self) -> u64 {
        ["cache", "shared"]
            .iter()
            .map(|&source| self.hits.get_or_create(&HitLabel { source }).get())
            .sum()
    }
    pub fn misses_of(&self, result: &'static str) -> u64 {
        self.misses.get_or_create(&MissLabel { result }).get()
    }
    pub fn bypasses_of(&self, reason: &'static str) -> u64 {
        self.bypasses.get_or_create(&BypassLabel { reason }).get()
    }
    pub fn evictions_of(&self, cause: &'static str) -> u64 {
        self.evictions.get_or_create(&EvictionLabel { cause }).get()
    }
}
