//! Counters of what the limits refused, for the metrics registry.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

/// What the listener limits refused. Clones share the counters.
#[derive(Debug, Clone, Default)]
pub struct LimitsMetrics {
    /// RPCs answered `RESOURCE_EXHAUSTED` because too many were in flight.
    pub shed: Counter,
    /// Connections closed at accept because `--max-connections` were open.
    pub refused_connections: Counter,
    /// Connections closed for not completing the handshake in time.
    pub handshake_timeouts: Counter,
}

impl LimitsMetrics {
    /// Adds the counters to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "authlete_grpc_shed_rpcs",
            "RPCs refused with RESOURCE_EXHAUSTED because --max-in-flight-rpcs were in flight",
            self.shed.clone(),
        );
        registry.register(
            "authlete_grpc_refused_connections",
            "Connections closed at accept because --max-connections were open",
            self.refused_connections.clone(),
        );
        registry.register(
            "authlete_grpc_handshake_timeouts",
            "Connections closed without a TLS handshake and HTTP/2 preface within --handshake-timeout-ms",
            self.handshake_timeouts.clone(),
        );
    }
}
