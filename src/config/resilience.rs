//! Flags of the resilience decorators: the discovery cache, retries, the
//! circuit breaker, and the bound on Authlete's replies.

use std::time::Duration;

use clap::Args;

use crate::backend::{
    BreakerOptions, CacheOptions, DEFAULT_MAX_REPLY_BYTES, IntrospectionCacheOptions,
    ResilienceOptions,
};

/// See the module documentation.
#[derive(Debug, Clone, Args)]
pub struct ResilienceArgs {
    /// How long answers of the discovery, JWKS and OID4VCI metadata reads are
    /// cached, in milliseconds; 0 turns the cache off.
    #[arg(
        long,
        env = "AUTHLETE_GRPC_DISCOVERY_CACHE_TTL_MS",
        default_value_t = 300_000
    )]
    pub discovery_cache_ttl_ms: u64,

    /// How long after expiry a cached answer is still served while Authlete
    /// fails (stale-if-error), in milliseconds.
    #[arg(
        long,
        env = "AUTHLETE_GRPC_DISCOVERY_STALE_IF_ERROR_MS",
        default_value_t = 3_600_000
    )]
    pub discovery_stale_if_error_ms: u64,

    /// Most bytes of answers the discovery cache keeps.
    #[arg(long, env = "AUTHLETE_GRPC_DISCOVERY_CACHE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub discovery_cache_bytes: u64,

    /// How long `OK` introspection answers are cached, in milliseconds; never
    /// past the token's expiry. 0 (the default) turns the cache off. Other
    /// replicas may serve their cached answer until this much time after a
    /// revocation.
    #[arg(
        long,
        env = "AUTHLETE_GRPC_INTROSPECTION_CACHE_TTL_MS",
        default_value_t = 0
    )]
    pub introspection_cache_ttl_ms: u64,

    /// Most bytes of answers the introspection cache keeps.
    #[arg(long, env = "AUTHLETE_GRPC_INTROSPECTION_CACHE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub introspection_cache_bytes: u64,

    /// Most retries of an idempotent Authlete call after a 503, a 429 or a
    /// connection failure; 0 never retries.
    #[arg(long, env = "AUTHLETE_GRPC_AUTHLETE_RETRIES", default_value_t = 2)]
    pub authlete_retries: u32,

    /// Retries allowed, as a percentage of the Authlete calls of the last 10 s
    /// (plus one a second), so that retries cannot multiply an outage.
    #[arg(long, env = "AUTHLETE_GRPC_AUTHLETE_RETRY_BUDGET_PERCENT", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub authlete_retry_budget_percent: u32,

    /// Consecutive connection failures or timeouts after which Authlete calls
    /// fail fast (circuit breaker); 0 disables the breaker.
    #[arg(
        long,
        env = "AUTHLETE_GRPC_AUTHLETE_BREAKER_FAILURES",
        default_value_t = 5
    )]
    pub authlete_breaker_failures: u32,

    /// How long the breaker first fails calls fast before one probe call, in
    /// milliseconds; doubled after each failed probe.
    #[arg(
        long,
        env = "AUTHLETE_GRPC_AUTHLETE_BREAKER_OPEN_MS",
        default_value_t = 1_000
    )]
    pub authlete_breaker_open_ms: u64,

    /// The longest fail-fast window of the breaker, in milliseconds.
    #[arg(
        long,
        env = "AUTHLETE_GRPC_AUTHLETE_BREAKER_MAX_OPEN_MS",
        default_value_t = 30_000
    )]
    pub authlete_breaker_max_open_ms: u64,

    /// Largest Authlete reply body read, in bytes; a larger reply fails the
    /// call (INTERNAL, AUTHLETE_BAD_REPLY) without being buffered.
    #[arg(long, env = "AUTHLETE_MAX_REPLY_BYTES", default_value_t = DEFAULT_MAX_REPLY_BYTES)]
    pub authlete_max_reply_bytes: usize,
}

impl ResilienceArgs {
    /// Retries, deadlines and the breaker, for calls bounded by `request_timeout`.
    pub fn resilience(&self, request_timeout: Duration) -> ResilienceOptions {
        ResilienceOptions {
            retries: self.authlete_retries,
            retry_budget_percent: self.authlete_retry_budget_percent,
            request_timeout,
            breaker: BreakerOptions {
                failures: self.authlete_breaker_failures,
                open: Duration::from_millis(self.authlete_breaker_open_ms),
                max_open: Duration::from_millis(
                    self.authlete_breaker_max_open_ms
                        .max(self.authlete_breaker_open_ms),
                ),
            },
            ..ResilienceOptions::default()
        }
    }

    /// The discovery cache.
    pub fn cache(&self) -> CacheOptions {
        CacheOptions {
            ttl: Duration::from_millis(self.discovery_cache_ttl_ms),
            stale_if_error: Duration::from_millis(self.discovery_stale_if_error_ms),
            max_bytes: self.discovery_cache_bytes,
            ..CacheOptions::default()
        }
    }

    /// The introspection cache.
    pub fn introspection_cache(&self) -> IntrospectionCacheOptions {
        IntrospectionCacheOptions {
            ttl: Duration::from_millis(self.introspection_cache_ttl_ms),
            max_bytes: self.introspection_cache_bytes,
            ..IntrospectionCacheOptions::default()
        }
    }
}
