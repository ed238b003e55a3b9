//! The baseline of the cached rows: a bare tonic server serving
//! grpc.health.v1 alone (no layers, no backend), the cheapest RPC tonic can
//! answer. It runs as a child process (this executable in the `echo` role)
//! when the service does, so that it is measured as the services it is
//! compared with are: a process of its own, reached across processes, its
//! CPU read from its own pid. In this process it would share the load
//! generator's runtime and threads, and skip the cross-process wake-up that
//! every other row pays.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use crate::fake::{RoleChild, serve_role, spawn_role};

/// Starts the echo server on 127.0.0.1:0; it runs until the process exits.
async fn listen() -> Result<SocketAddr, String> {
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

/// The echo server as a child process (`child`) or in this process; its
/// address, and the child when there is one.
pub async fn start(child: bool) -> Result<(SocketAddr, Option<RoleChild>), String> {
    if !child {
        return Ok((listen().await?, None));
    }
    let (child, addr) = spawn_role("echo", &[]).await?;
    Ok((addr, Some(child)))
}

/// The echo server as a process of its own (see `fake::serve_role`).
pub async fn run_process() {
    match listen().await {
        Ok(addr) => serve_role(addr).await,
        Err(e) => eprintln!("echo: {e}"),
    }
}
