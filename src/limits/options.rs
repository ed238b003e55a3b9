//! The flags of the listener limits.

use std::time::Duration;

use clap::Args;

use super::ListenerLimits;

/// Listener limits: what a peer may make this process hold.
#[derive(Debug, Clone, Args)]
pub struct LimitsArgs {
    /// Streams (concurrent RPCs) a client may open on one HTTP/2 connection
    /// (SETTINGS_MAX_CONCURRENT_STREAMS).
    #[arg(long, env = "AUTHLETE_GRPC_MAX_CONCURRENT_STREAMS", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_streams: u32,

    /// Streams a client may reset before the server accepted them; beyond
    /// that the connection is closed (HTTP/2 "Rapid Reset").
    #[arg(long, env = "AUTHLETE_GRPC_MAX_PENDING_RESET_STREAMS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pending_reset_streams: u64,

    /// Streams the server may reset for a client's protocol errors; beyond
    /// that the connection is closed (HTTP/2 "MadeYouReset").
    #[arg(long, env = "AUTHLETE_GRPC_MAX_LOCAL_RESET_STREAMS", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_local_reset_streams: u64,

    /// Largest header list of one request, in bytes (HPACK-decoded).
    #[arg(long, env = "AUTHLETE_GRPC_MAX_HEADER_LIST_BYTES", default_value_t = 16 * 1024,
          value_parser = clap::value_parser!(u32).range(1024..))]
    pub max_header_list_bytes: u32,

    /// Time a new connection gets for the TLS handshake and the HTTP/2
    /// preface, in milliseconds; then it is closed.
    #[arg(long, env = "AUTHLETE_GRPC_HANDSHAKE_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub handshake_timeout_ms: u64,

    /// A connection with no RPC for this long is closed, in milliseconds.
    #[arg(long, env = "AUTHLETE_GRPC_IDLE_TIMEOUT_MS", default_value_t = 300_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_ms: u64,

    /// Age at which a connection is asked to go away (GOAWAY), so clients
    /// reconnect and spread over replicas, in milliseconds.
    #[arg(long, env = "AUTHLETE_GRPC_MAX_CONNECTION_AGE_MS", default_value_t = 1_800_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connection_age_ms: u64,

    /// Time the RPCs of a connection past its age get to finish before it is
    /// closed, in milliseconds.
    #[arg(
        long,
        env = "AUTHLETE_GRPC_MAX_CONNECTION_AGE_GRACE_MS",
        default_value_t = 30_000
    )]
    pub max_connection_age_grace_ms: u64,

    /// Connections open at once per listener; more are closed as soon as
    /// they are accepted.
    #[arg(long, env = "AUTHLETE_GRPC_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,

    /// RPCs in flight at once; more are answered RESOURCE_EXHAUSTED at once
    /// (with RetryInfo). Health checks are never refused.
    #[arg(long, env = "AUTHLETE_GRPC_MAX_IN_FLIGHT_RPCS", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_in_flight_rpcs: u64,
}

impl LimitsArgs {
    /// The limits these flags say.
    pub fn limits(&self) -> ListenerLimits {
        let ms = Duration::from_millis;
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        ListenerLimits {
            max_concurrent_streams: self.max_concurrent_streams,
            max_pending_accept_reset_streams: size(self.max_pending_reset_streams),
            max_local_error_reset_streams: size(self.max_local_reset_streams),
            max_header_list_bytes: self.max_header_list_bytes,
            handshake_timeout: ms(self.handshake_timeout_ms),
            idle_timeout: ms(self.idle_timeout_ms),
            max_connection_age: ms(self.max_connection_age_ms),
            max_connection_age_grace: ms(self.max_connection_age_grace_ms),
            max_connections: size(self.max_connections),
            max_in_flight_rpcs: size(self.max_in_flight_rpcs),
            ..ListenerLimits::default()
        }
    }
}
