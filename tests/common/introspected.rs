//! The service with the introspection cache on, an injectable clock, and
//! what the cache tests ask of it.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use authlete_grpc::backend::{IntrospectionCacheMetrics, IntrospectionCacheOptions};
use authlete_grpc::cache::{Clock, ManualClock};
use authlete_grpc::pb;
use authlete_grpc::server::ServerOptions;
use serde_json::json;

use super::{Env, V3, fixture_with, resilience};

pub const TTL: Duration = Duration::from_secs(60);
pub const INTROSPECTION: &str = "/auth/introspection";

pub struct Cached {
    pub env: Env,
    pub metrics: IntrospectionCacheMetrics,
    pub clock: Arc<ManualClock>,
}

/// The service, its cache's metrics and clock.
pub async fn started() -> Cached {
    started_with(|options| options).await
}

/// As [`started`], with the server options `server` makes of the defaults.
pub async fn started_with(server: impl FnOnce(ServerOptions) -> ServerOptions) -> Cached {
    let clock = Arc::new(ManualClock::default());
    let (setup, metrics) = resilience::introspection_cached(
        V3,
        IntrospectionCacheOptions {
            ttl: TTL,
            clock: clock.clone(),
            ..Default::default()
        },
    );
    let options = server(setup.server.clone());
    Cached {
        env: setup.server(options).start().await,
        metrics,
        clock,
    }
}

impl Cached {
    /// Milliseconds since the epoch, on the cache's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock
            .wall()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    }

    /// Authlete's `OK` for a token of client 42 (alias `web`) expiring in `ms`.
    pub fn ok(&self, expires_in_ms: i64) -> String {
        fixture_with(
            "introspection/ok.json",
            json!({"expiresAt": self.now_ms() + expires_in_ms, "clientId": 42, "clientIdAlias": "web"}),
        )
    }

    /// Scripts every introspection to answer `body`.
    pub fn answer(&self, body: String) {
        self.env.fake.reply(INTROSPECTION, 200, body);
    }

    /// How many introspections reached the fake Authlete.
    pub fn upstream(&self) -> usize {
        self.env
            .fake
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(INTROSPECTION))
            .count()
    }

    /// Introspects `token` needing `scopes`; the reply's raw Authlete JSON.
    pub async fn introspect(&self, token: &str, scopes: &[&str]) -> Result<String, tonic::Status> {
        self.introspect_with(request(token, scopes)).await
    }

    pub async fn introspect_with(
        &self,
        request: pb::IntrospectionRequest,
    ) -> Result<String, tonic::Status> {
        self.env
            .introspection()
            .introspection(request)
            .await
            .map(|r| r.into_inner().authlete_response)
    }
}

pub fn request(token: &str, scopes: &[&str]) -> pb::IntrospectionRequest {
    pb::IntrospectionRequest {
        token: token.to_owned(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    }
}
