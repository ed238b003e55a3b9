//! The resilience decorators around the fake, with their metrics at hand.

use std::sync::Arc;
use std::time::Duration;

use authlete_grpc::backend::{
    Backend, BreakerOptions, CacheOptions, Cached, IntrospectionCache, IntrospectionCacheMetrics,
    IntrospectionCacheOptions, ResilienceMetrics, ResilienceOptions, Resilient,
};
use authlete_grpc::pb;
use tonic::Status;
use tonic_types::StatusExt;

use super::{ApiVersion, Setup};

/// Retries with a short backoff (so tests are quick) and the breaker off,
/// unless a test says otherwise.
pub fn options() -> ResilienceOptions {
    ResilienceOptions {
        backoff: Duration::from_millis(20),
        request_timeout: Duration::from_secs(5),
        breaker: BreakerOptions {
            failures: 0,
            ..BreakerOptions::default()
        },
        ..ResilienceOptions::default()
    }
}

/// `Resilient(authlete)` with `options`.
pub fn resilient(version: ApiVersion, options: ResilienceOptions) -> (Setup, ResilienceMetrics) {
    let metrics = ResilienceMetrics::default();
    let m = metrics.clone();
    let setup = Setup::new(version).decorate(move |b| {
        Arc::new(Resilient::new(b, options.clone(), m.clone())) as Arc<dyn Backend>
    });
    (setup, metrics)
}

/// `Cached(Resilient(authlete))`, the binary's composition.
pub fn cached(version: ApiVersion, cache: CacheOptions) -> (Setup, ResilienceMetrics) {
    let metrics = ResilienceMetrics::default();
    let m = metrics.clone();
    let setup = Setup::new(version).decorate(move |b| {
        let r = Arc::new(Resilient::new(b, options(), m.clone()));
        Arc::new(Cached::new(r, cache.clone(), m.clone())) as Arc<dyn Backend>
    });
    (setup, metrics)
}

/// `IntrospectionCache(Cached(Resilient(authlete)))`, the binary's
/// composition with the introspection cache on.
pub fn introspection_cached(
    version: ApiVersion,
    cache: IntrospectionCacheOptions,
) -> (Setup, IntrospectionCacheMetrics) {
    let metrics = IntrospectionCacheMetrics::default();
    let m = metrics.clone();
    let setup = Setup::new(version).decorate(move |b| {
        let resilience = ResilienceMetrics::default();
        let r = Arc::new(Resilient::new(b, options(), resilience.clone()));
        let c = Arc::new(Cached::new(r, CacheOptions::default(), resilience));
        Arc::new(IntrospectionCache::new(c, cache.clone(), m.clone())) as Arc<dyn Backend>
    });
    (setup, metrics)
}

/// The counter `family` of `metrics` for `api`.
pub fn count(
    metrics: &ResilienceMetrics,
    family: fn(
        &ResilienceMetrics,
    ) -> &prometheus_client::metrics::family::Family<
        authlete_grpc::backend::ApiLabel,
        prometheus_client::metrics::counter::Counter,
    >,
    api: &'static str,
) -> u64 {
    ResilienceMetrics::value(family(metrics), api)
}

/// An introspection request.
pub fn introspection() -> pb::IntrospectionRequest {
    pb::IntrospectionRequest {
        token: "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI".to_owned(),
        ..Default::default()
    }
}

/// `RetryInfo`'s delay of a status, if any.
pub fn retry_delay(status: &Status) -> Option<Duration> {
    status.get_details_retry_info().and_then(|r| r.retry_delay)
}
