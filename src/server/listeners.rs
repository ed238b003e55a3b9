//! The plaintext health listener (for probes that cannot do TLS, such as
//! the kubelet's gRPC probe) and the boxed serving future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Server;

use crate::limits::conn::Guarded;
use crate::limits::{LimitsMetrics, ListenerLimits};
use tonic_health::pb::health_server::{Health, HealthServer};

/// The serve future of one listener, plaintext or TLS.
pub(super) type Serving = Pin<Box<dyn Future<Output = Result<(), tonic::transport::Error>> + Send>>;

/// A listener for grpc.health.v1 alone, in plaintext. Taken by the first
/// `serve` that gets it.
#[derive(Clone)]
pub struct HealthListener(Arc<Mutex<Option<TcpListener>>>);

impl HealthListener {
    /// Serves health on `listener`.
    pub fn new(listener: TcpListener) -> Self {
        Self(Arc::new(Mutex::new(Some(listener))))
    }

    pub(super) fn take(&self) -> Option<TcpListener> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl fmt::Debug for HealthListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HealthListener")
    }
}

/// A tonic server builder with the HTTP/2 limits and keepalive. tonic sends
/// the `GOAWAY` at the maximum age; the grace after it is enforced by the
/// accept loop (`limits::conn`).
pub(super) fn limited_builder(limits: &ListenerLimits) -> Server {
    Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .max_concurrent_streams(limits.max_concurrent_streams)
        .http2_max_pending_accept_reset_streams(Some(limits.max_pending_accept_reset_streams))
        .http2_max_local_error_reset_streams(Some(limits.max_local_error_reset_streams))
        .http2_max_header_list_size(limits.max_header_list_bytes)
        .max_connection_age(limits.max_connection_age)
}

/// The guarded connections of a plaintext listener.
pub(super) fn plaintext(
    listener: TcpListener,
    limits: &ListenerLimits,
    metrics: LimitsMetrics,
) -> ReceiverStream<std::io::Result<Guarded<TcpStream>>> {
    crate::limits::incoming(listener, limits, metrics, |tcp, _| {
        std::future::ready(Some(tcp))
    })
}

/// Serves only `health` on `listener` until aborted, with the same
/// connection limits as the main listener (its own count of connections).
pub(super) async fn serve_health<H: Health>(
    listener: TcpListener,
    health: HealthServer<H>,
    limits: ListenerLimits,
    metrics: LimitsMetrics,
) {
    let incoming = plaintext(listener, &limits, metrics);
    if let Err(e) = limited_builder(&limits)
        .add_service(health)
        .serve_with_incoming(incoming)
        .await
    {
        tracing::error!(error = %e, "the plaintext health listener stopped");
    }
}

/// Stops the health listener when `serve` returns.
pub(super) struct AbortOnDrop(pub(super) Option<JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// Serves `/authz` on `listener` until aborted: the main listener's TLS (with
/// HTTP/1.1 offered besides h2, since proxies ask over HTTP/1.1), caller
/// authentication and connection limits.
pub(super) fn serve_authz(
    listener: TcpListener,
    backend: Arc<dyn crate::backend::Backend>,
    options: &super::ServerOptions,
) -> impl Future<Output = ()> + Send + 'static {
    use crate::authz::http::{ForwardAuth, router, serve};
    let app = router(ForwardAuth {
        backend,
        options: options.authz.clone(),
        caller_auth: options.caller_auth.clone(),
    });
    let (limits, metrics) = (options.limits.clone(), options.limits_metrics.clone());
    let tls = options.tls.as_ref().map(|config| {
        let mut config = rustls::ServerConfig::clone(config);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    });
    let serving: Pin<Box<dyn Future<Output = ()> + Send>> = match tls {
        Some(config) => Box::pin(serve(
            crate::auth::tls::incoming(listener, config, &limits, metrics),
            app,
            limits.clone(),
        )),
        None => Box::pin(serve(
            plaintext(listener, &limits, metrics),
            app,
            limits.clone(),
        )),
    };
    serving
}
