//! Bounds on what a peer that reaches the listener can make this process
//! hold, enforced before caller authentication runs: HTTP/2 settings, a
//! handshake deadline, idle and age limits per connection, a maximum number
//! of connections (`conn.rs`), and a global bound on RPCs in flight beyond
//! which new RPCs are shed at once with `RESOURCE_EXHAUSTED` (the
//! [`LimitsLayer`], outermost in the layer chain, for every surface).
//!
//! Like `auth/`, this module knows tonic: it answers shed calls itself.

pub mod conn;
mod metrics;
pub mod options;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

pub use conn::{ConnInfo, incoming};
pub use metrics::LimitsMetrics;

use crate::grpc::ERROR_DOMAIN;

/// What one listener lets a peer hold. The defaults are safe for a service
/// exposed to an untrusted network; every field has a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerLimits {
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`: streams a client may open at once
    /// on one connection.
    pub max_concurrent_streams: u32,
    /// Streams a client may reset before the server accepted them, before
    /// the connection is closed with `ENHANCE_YOUR_CALM` ("Rapid Reset").
    pub max_pending_accept_reset_streams: usize,
    /// Streams the server may reset because of the client's protocol errors,
    /// before the connection is closed ("MadeYouReset").
    pub max_local_error_reset_streams: usize,
    /// Largest header list (HPACK-decoded) of one request.
    pub max_header_list_bytes: u32,
    /// Time from accept to the end of the TLS handshake and the client's
    /// HTTP/2 preface.
    pub handshake_timeout: Duration,
    /// A connection with no RPC in flight for this long is closed.
    pub idle_timeout: Duration,
    /// Age at which a connection is told to go away (`GOAWAY`), so clients
    /// reconnect and rebalance across replicas.
    pub max_connection_age: Duration,
    /// Time an old connection's RPCs get to finish after its `GOAWAY`.
    pub max_connection_age_grace: Duration,
    /// Connections held at once; more are closed as soon as accepted.
    pub max_connections: usize,
    /// RPCs in flight at once over every connection; more are answered
    /// `RESOURCE_EXHAUSTED` at once. Health checks are never shed.
    pub max_in_flight_rpcs: usize,
    /// The back-off a shed RPC is told to wait (`google.rpc.RetryInfo`).
    pub retry_after: Duration,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        Self {
            max_concurrent_streams: 100,
            max_pending_accept_reset_streams: 20,
            max_local_error_reset_streams: 1024,
            max_header_list_bytes: 16 * 1024,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            max_connection_age: Duration::from_secs(1800),
            max_connection_age_grace: Duration::from_secs(30),
            max_connections: 1024,
            max_in_flight_rpcs: 1024,
            retry_after: Duration::from_millis(100),
        }
    }
}

/// Paths that are never shed: a probe must see the process is alive even
/// when it is saturated.
fn never_shed(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/")
}

/// The tower layer that sheds RPCs beyond the in-flight bound, keeps each
/// connection's activity for the idle timeout, and reports an oversized
/// request as `RESOURCE_EXHAUSTED`.
#[derive(Debug, Clone)]
pub struct LimitsLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    max_in_flight: usize,
    retry_after: Duration,
    max_message_bytes: usize,
    in_flight: AtomicUsize,
    metrics: LimitsMetrics,
}

impl LimitsLayer {
    /// Sheds beyond `limits.max_in_flight_rpcs`; `max_message_bytes` is the
    /// request bound tonic enforces, named in the error.
    pub fn new(limits: &ListenerLimits, max_message_bytes: usize, metrics: LimitsMetrics) -> Self {
        Self {
            shared: Arc::new(Shared {
                max_in_flight: limits.max_in_flight_rpcs,
                retry_after: limits.retry_after,
                max_message_bytes,
                in_flight: AtomicUsize::new(0),
                metrics,
            }),
        }
    }
}

impl<S> tower_layer::Layer<S> for LimitsLayer {
    type Service = LimitsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LimitsService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`LimitsLayer`] makes.
#[derive(Debug, Clone)]
pub struct LimitsService<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// Holds one RPC's place in the global count and its connection's activity;
/// both are given back when the response (or its cancellation) drops it.
struct InFlight {
    shared: Option<Arc<Shared>>,
    conn: Option<Arc<conn::Activity>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
        if let Some(conn) = &self.conn {
            conn.end();
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> tower_service::Service<http::Request<B>> for LimitsService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let conn = conn::activity(request.extensions());
        if let Some(conn) = &conn {
            conn.begin();
        }
        let mut guard = InFlight { shared: None, conn };
        if !never_shed(request.uri().path()) {
            let shared = &self.shared;
            let before = shared.in_flight.fetch_add(1, Ordering::Relaxed);
            guard.shared = Some(shared.clone());
            if before >= shared.max_in_flight {
                shared.metrics.shed.inc();
                tracing::warn!(
                    rpc = request.uri().path(),
                    outcome = "shed",
                    max_in_flight_rpcs = shared.max_in_flight,
                    "rpc refused: too many RPCs in flight"
                );
                let response = overloaded(shared.max_in_flight, shared.retry_after).into_http();
                return Box::pin(std::future::ready(Ok(response)));
            }
        }
        let max_message_bytes = self.shared.max_message_bytes;
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = call.await;
            drop(guard);
            response.map(|r| too_large_is_exhausted(r, max_message_bytes))
        })
    }
}

/// The status of a shed RPC: `RESOURCE_EXHAUSTED`, when to retry, and why.
fn overloaded(max: usize, retry_after: Duration) -> Status {
    let mut details = ErrorDetails::with_retry_info(Some(retry_after));
    details.set_error_info(
        "OVERLOADED",
        ERROR_DOMAIN,
        HashMap::from([("max_in_flight_rpcs".to_owned(), max.to_string())]),
    );
    Status::with_error_details(
        Code::ResourceExhausted,
        format!("too many RPCs in flight (more than {max}); retry later"),
        details,
    )
}

/// tonic reports a request over the decoding limit as `OUT_OF_RANGE`;
/// gRPC's status-code guide says `RESOURCE_EXHAUSTED`. The reply is a
/// trailers-only response, so its headers hold the status.
fn too_large_is_exhausted(
    response: http::Response<tonic::body::Body>,
    max_message_bytes: usize,
) -> http::Response<tonic::body::Body> {
    let out_of_range = response
        .headers()
        .get("grpc-status")
        .is_some_and(|v| v.as_bytes() == b"11");
    if !out_of_range {
        return response;
    }
    match Status::from_header_map(response.headers()) {
        Some(s)
            if s.message()
                .starts_with("Error, decoded message length too large") =>
        {
            too_large(max_message_bytes).into_http()
        }
        _ => response,
    }
}

/// The status of a request message over `--max-message-bytes`, for every
/// surface (gRPC here, Connect in `connect::body`).
pub(crate) fn too_large(max_message_bytes: usize) -> Status {
    let details = ErrorDetails::with_error_info(
        "REQUEST_TOO_LARGE",
        ERROR_DOMAIN,
        HashMap::from([(
            "max_message_bytes".to_owned(),
            max_message_bytes.to_string(),
        )]),
    );
    Status::with_error_details(
        Code::ResourceExhausted,
        format!("request message larger than --max-message-bytes ({max_message_bytes} bytes)"),
        details,
    )
}
