//! The floor an introspection service can reach: a tonic
//! `IntrospectionService` that forwards the token and scopes to the fake
//! Authlete with reqwest, parses the JSON reply and returns it, with no
//! layers, no mapping and no checks. Run as a child process (this executable
//! re-run) next to a child service, so that both cross the same processes.

use std::net::SocketAddr;
use std::time::Duration;

use authlete_grpc::pb::introspection_response::Action;
use authlete_grpc::pb::introspection_service_server::{
    IntrospectionService, IntrospectionServiceServer,
};
use authlete_grpc::pb::{
    IntrospectionRequest, IntrospectionResponse, StandardIntrospectionRequest,
    StandardIntrospectionResponse,
};
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

use crate::fake::{RoleChild, serve_role, spawn_role};
use crate::{SERVICE_AUTHORIZATION, SERVICE_ID};

/// The environment variable that gives the child the fake's address.
pub const FAKE_ENV: &str = "AUTHLETE_GRPC_BENCH_FAKE";

struct Passthrough {
    client: reqwest::Client,
    url: String,
}

#[derive(serde::Serialize)]
struct Body<'a> {
    token: &'a str,
    scopes: &'a [String],
}

#[tonic::async_trait]
impl IntrospectionService for Passthrough {
    async fn introspection(
        &self,
        request: Request<IntrospectionRequest>,
    ) -> Result<Response<IntrospectionResponse>, Status> {
        let r = request.into_inner();
        let body = serde_json::to_vec(&Body {
            token: &r.token,
            scopes: &r.scopes,
        })
        .map_err(|e| Status::internal(e.to_string()))?;
        let reply = self
            .client
            .post(&self.url)
            .header("content-type", "application/json;charset=UTF-8")
            .header("authorization", SERVICE_AUTHORIZATION)
            .body(body)
            .send()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let text = reply
            .text()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Status::internal(e.to_string()))?;
        let action = if json["action"] == "OK" {
            Action::Ok
        } else {
            Action::Unspecified
        };
        Ok(Response::new(IntrospectionResponse {
            action: action as i32,
            authlete_response: text,
            ..Default::default()
        }))
    }

    async fn standard_introspection(
        &self,
        _: Request<StandardIntrospectionRequest>,
    ) -> Result<Response<StandardIntrospectionResponse>, Status> {
        Err(Status::unimplemented("not in the benchmark"))
    }
}

/// Serves the passthrough on 127.0.0.1:0 until the process ends.
pub async fn listen(fake: SocketAddr) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot bind the passthrough: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let service = Passthrough {
        client,
        url: format!("http://{fake}/api/{SERVICE_ID}/auth/introspection"),
    };
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tokio::spawn(async move {
        let _ = Server::builder()
            .add_service(IntrospectionServiceServer::new(service))
            .serve_with_incoming(incoming)
            .await;
    });
    Ok(addr)
}

/// The passthrough as a child process (`child`) or in this process; its
/// address, and the child when there is one.
pub async fn start(
    fake: SocketAddr,
    child: bool,
) -> Result<(SocketAddr, Option<RoleChild>), String> {
    if !child {
        return Ok((listen(fake).await?, None));
    }
    let (child, addr) = spawn_role("passthrough", &[(FAKE_ENV, fake.to_string())]).await?;
    Ok((addr, Some(child)))
}

/// The passthrough as a process of its own (see `fake::serve_role`).
pub async fn run_process() {
    let fake = std::env::var(FAKE_ENV)
        .ok()
        .and_then(|a| a.parse::<SocketAddr>().ok());
    let Some(fake) = fake else {
        eprintln!("passthrough: {FAKE_ENV} is not an address");
        return;
    };
    match listen(fake).await {
        Ok(addr) => serve_role(addr).await,
        Err(e) => eprintln!("passthrough: {e}"),
    }
}
