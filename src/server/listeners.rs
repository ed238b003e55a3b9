//! The plaintext health listener (for probes that cannot do TLS, such as
//! the kubelet's gRPC probe) and the boxed serving future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
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

/// Serves only `health` on `listener` until aborted.
pub(super) async fn serve_health<H: Health>(listener: TcpListener, health: HealthServer<H>) {
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    if let Err(e) = Server::builder()
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
