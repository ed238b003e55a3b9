//! (f, g) `Introspection` over Connect (JSON and binary protobuf), next to
//! the gRPC row (b) of the same level: what a web tier with only an HTTP
//! client (PHP's curl, Ruby's net/http) gets. HTTP/1.1 with a keep-alive
//! pool, one connection per request in flight, as curl does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use authlete_grpc::pb::introspection_response::Action;
use authlete_grpc::pb::{IntrospectionRequest, IntrospectionResponse};
use prost::Message as _;

use crate::Config;
use crate::load::{self, Caller, Pids};
use crate::report::print_row;
use crate::stats::Stats;

const PATH: &str = "/authlete.v1.IntrospectionService/Introspection";

/// One Connect call per `call`, in JSON or binary.
#[derive(Clone)]
struct ConnectCaller {
    client: reqwest::Client,
    url: Arc<str>,
    json: bool,
}

impl Caller for ConnectCaller {
    async fn call(&mut self) -> bool {
        let (content_type, body) = if self.json {
            ("application/json", json_body())
        } else {
            ("application/proto", proto_body())
        };
        let sent = self
            .client
            .post(&*self.url)
            .header("content-type", content_type)
            .header("connect-protocol-version", "1")
            .body(body)
            .send()
            .await;
        let Ok(r) = sent else { return false };
        if !r.status().is_success() {
            return false;
        }
        let Ok(bytes) = r.bytes().await else {
            return false;
        };
        if self.json {
            // The action's name, as canonical JSON writes it.
            memchr_ok(&bytes)
        } else {
            IntrospectionResponse::decode(bytes).is_ok_and(|m| m.action() == Action::Ok)
        }
    }
}

/// The request of the gRPC row (b), as Connect JSON.
fn json_body() -> Vec<u8> {
    serde_json::json!({"token": load::ACCESS_TOKEN, "scopes": ["read"]})
        .to_string()
        .into_bytes()
}

fn proto_body() -> Vec<u8> {
    IntrospectionRequest {
        token: load::ACCESS_TOKEN.to_owned(),
        scopes: vec!["read".to_owned()],
        ..Default::default()
    }
    .encode_to_vec()
}

fn memchr_ok(bytes: &[u8]) -> bool {
    let needle = br#""action":"ACTION_OK""#;
    bytes.windows(needle.len()).any(|w| w == needle)
}

/// Measures and prints (j) Connect JSON and (k) Connect binary at `conc`,
/// and their throughput as a share of gRPC's (`grpc`).
pub async fn measure(config: &Config, service: SocketAddr, conc: usize, pids: Pids, grpc: &Stats) {
    let client = reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(conc)
        .build()
        .expect("a plain HTTP client builds");
    let url: Arc<str> = format!("http://{service}{PATH}").into();
    let mut rows = Vec::new();
    for (label, json) in [("j. Connect JSON/h1", true), ("k. Connect proto/h1", false)] {
        let caller = ConnectCaller {
            client: client.clone(),
            url: url.clone(),
            json,
        };
        let stats = load::measure(label, conc, config, pids, |_| caller.clone()).await;
        print_row(&stats);
        rows.push(stats);
    }
    let share = |s: &Stats| {
        if grpc.rps > 0.0 {
            s.rps / grpc.rps
        } else {
            0.0
        }
    };
    println!(
        "{:<26}{:>6}  JSON {:.2}x gRPC rps (target >= 0.70x), binary {:.2}x",
        "   Connect / gRPC",
        conc,
        share(&rows[0]),
        share(&rows[1])
    );
}
