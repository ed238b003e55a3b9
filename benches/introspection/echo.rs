//! The baseline of the cached-discovery row: a bare tonic server in this
//! process serving grpc.health.v1 alone (no layers, no backend), the
//! cheapest RPC tonic can answer.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

/// Starts the echo server on 127.0.0.1:0; it runs until the bench exits.
pub async fn start() -> Result<SocketAddr, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot bind the echo server: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tokio::spawn(async move {
        let _keep = reporter;
        let _ = Server::builder()
            .add_service(health)
            .serve_with_incoming(incoming)
            .await;
    });
    Ok(addr)
}
