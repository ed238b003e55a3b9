//! The binary wires metrics and traces: `--metrics-listen` serves the
//! registry (with the local engine's gauge and its metered calls), and with
//! an OTLP endpoint that nobody listens on the RPCs still succeed and their
//! log lines carry a `trace_id`.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use authlete_grpc::pb;
use authlete_grpc::pb::discovery_service_client::DiscoveryServiceClient;
use common::stderr_lines;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start() -> (Running, Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authlete-grpc"))
        .env_clear()
        .env("AUTHLETE_BACKEND", "local")
        .env("AUTHLETE_GRPC_LISTEN", "127.0.0.1:0")
        .env("AUTHLETE_GRPC_METRICS_LISTEN", "127.0.0.1:0")
        // Nobody listens there: export fails, RPCs must not notice.
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
        .env("AUTHLETE_GRPC_LOG_FORMAT", "text")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let rx = stderr_lines(&mut child);
    (Running(child), rx)
}

/// The first line containing `needle`, within a deadline.
fn wait_for(rx: &Receiver<String>, needle: &str, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
    }
    panic!("no `{needle}` in:\n{}", seen.join("\n"));
}

/// The `listen=ADDR` field of a log line.
fn listen(line: &str) -> String {
    let start = line.find("listen=").expect("a listen field") + "listen=".len();
    line[start..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn the_binary_serves_metrics_and_traces_without_a_collector() {
    let (_child, rx) = start();
    let mut seen = Vec::new();
    let metrics = listen(&wait_for(&rx, "serving Prometheus metrics", &mut seen));
    let grpc = listen(&wait_for(&rx, "serving gRPC", &mut seen));

    let mut client = DiscoveryServiceClient::connect(format!("http://{grpc}"))
        .await
        .unwrap();
    let started = Instant::now();
    for _ in 0..3 {
        client
            .service_configuration(pb::ServiceConfigurationRequest::default())
            .await
            .expect("OK without a collector");
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    let line = wait_for(&rx, "rpc=\"ServiceConfiguration\"", &mut seen);
    assert!(line.contains("trace_id="), "{line}");

    let text = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        r#"authlete_grpc_local_live_objects{kind="grant"} 0"#,
        r#"grpc_server_handled_total{grpc_type="unary",grpc_service="authlete.v1.DiscoveryService",grpc_method="ServiceConfiguration",grpc_code="OK"} 3"#,
        // Three RPCs, one call to the engine: the discovery cache answers the others.
        r#"authlete_grpc_upstream_requests_total{api="/service/configuration",status="200"} 1"#,
        r#"authlete_grpc_cache_hits_total{api="/service/configuration"} 2"#,
        "authlete_grpc_build_info{",
    ] {
        assert!(text.contains(expected), "no {expected} in:\n{text}");
    }
}
