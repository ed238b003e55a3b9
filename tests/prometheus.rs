//! A real Prometheus (Debian's `prometheus`, installed by `.ci/run` when
//! missing) scrapes the service on loopback; the values it stored, read back
//! through its HTTP API, match the calls made.

mod common;
#[path = "common/metered.rs"]
mod metered;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use metered::*;
use serde_json::Value;

/// The Prometheus binary, or `None` (the test then says why it skips).
fn prometheus_binary() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("prometheus"))
        .find(|p| p.is_file())
}

/// Kills Prometheus when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(binary: &PathBuf, target: &str) -> (Running, String) {
    let dir = std::env::temp_dir().join(format!("authlete-grpc-prometheus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: authlete-grpc\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{target}']\n"
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    (Running(child), format!("http://127.0.0.1:{port}"))
}

/// The single value Prometheus holds for `query`, once it has one.
async fn query(api: &str, query: &str) -> Option<f64> {
    let url =
        url::Url::parse_with_params(&format!("{api}/api/v1/query"), [("query", query)]).ok()?;
    let response = reqwest::get(url).await.ok()?;
    let body: Value = serde_json::from_str(&response.text().await.ok()?).ok()?;
    let result = body["data"]["result"].as_array()?;
    if result.len() != 1 {
        return None;
    }
    result[0]["value"][1].as_str()?.parse().ok()
}

/// Waits until Prometheus stores `want` for `q` (it scrapes every second).
async fn eventually(api: &str, q: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = None;
    while Instant::now() < deadline {
        last = query(api, q).await;
        if last == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("Prometheus holds {last:?} for {q}, not {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_stores_what_the_service_counted() {
    let Some(binary) = prometheus_binary() else {
        eprintln!(
            "SKIPPED: no `prometheus` binary (Debian package `prometheus`; .ci/run installs it)"
        );
        return;
    };
    let (env, metrics_url) = metered_env(V3).await;
    known_mix(&env).await;
    let target = metrics_url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .to_owned();
    let (_prometheus, api) = start(&binary, &target);

    eventually(
        &api,
        r#"grpc_server_handled_total{grpc_service="authlete.v1.IntrospectionService",grpc_method="Introspection",grpc_code="OK"}"#,
        2.0,
    )
    .await;
    eventually(
        &api,
        r#"grpc_server_handled_total{grpc_method="Token",grpc_code="Unavailable"}"#,
        1.0,
    )
    .await;
    eventually(
        &api,
        r#"authlete_grpc_actions_total{rpc="authlete.v1.IntrospectionService/Introspection",action="UNKNOWN"}"#,
        1.0,
    )
    .await;
    eventually(
        &api,
        r#"sum(grpc_server_started_total{job="authlete-grpc"})"#,
        7.0,
    )
    .await;
    eventually(&api, r#"up{job="authlete-grpc"}"#, 1.0).await;
}
