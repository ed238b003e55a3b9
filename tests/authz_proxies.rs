//! Real proxies asking `/authz`: nginx (`auth_request`) and Caddy
//! (`forward_auth`) from Debian, started on free loopback ports with the
//! files of `deploy/authz/` (only addresses and the caller key replaced), in
//! front of a tiny upstream that echoes the headers it got, with the binary
//! on the local engine as the authorizer. Tokens come from a real
//! client-credentials grant through the `Token` RPC.
//!
//! A missing proxy binary skips its test with a message, except under CI
//! (`CI` set), where `.ci/run` installs both and a missing one fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use authlete_grpc::pb;
use authlete_grpc::pb::revocation_service_client::RevocationServiceClient;
use authlete_grpc::pb::token_service_client::TokenServiceClient;
use axum::http::HeaderMap;
use common::stderr_lines;

const CALLER_KEY: &str = "proxy-caller-key-0123456789abcdef";
const CLIENT: &str = "rs-tester";
const SECRET: &str = "rs-tester-secret";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The proxy binary, or `None` (skip) when it is missing outside CI.
fn proxy(candidates: &[&str]) -> Option<PathBuf> {
    if let Some(found) = candidates.iter().map(PathBuf::from).find(|p| p.exists()) {
        return Some(found);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{candidates:?} missing under CI: .ci/run installs nginx and caddy");
    }
    eprintln!("SKIPPED: none of {candidates:?} is installed (apt-get install nginx caddy)");
    None
}

fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "authz-{label}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    dir
}

fn free_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// The upstream: answers 200 with the request's headers as JSON.
async fn upstream() -> String {
    async fn echo(headers: HeaderMap) -> axum::Json<serde_json::Value> {
        let map: serde_json::Map<_, _> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().into()))
            .collect();
        axum::Json(map.into())
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = axum::Router::new().fallback(echo);
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The binary on the local engine with a client-credentials client, caller
/// keys and a policy letting the proxy ask `/authz`; (gRPC, /authz) addresses.
fn authorizer(dir: &Path) -> (Running, String, String, Receiver<String>) {
    let config = dir.join("engine.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[scopes]]
name = "read"
[[scopes]]
name = "write"

[[clients]]
client_id = "{CLIENT}"
client_secret = "{SECRET}"
client_type = "confidential"
grant_types = ["client_credentials"]
token_auth_method = "client_secret_basic"
"#
        ),
    )
    .unwrap();
    let policy = dir.join("policy.toml");
    std::fs::write(
        &policy,
        r#"
[callers."key:proxy"]
allow = ["authlete.grpc.ForwardAuth"]
[callers."key:web"]
allow = ["authlete.v1.TokenService", "authlete.v1.RevocationService"]
"#,
    )
    .unwrap();
    let keys = format!(
        "proxy={},web={}",
        authlete_grpc::auth::keys::hash_hex(CALLER_KEY),
        authlete_grpc::auth::keys::hash_hex(WEB_KEY)
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_authlete-grpc"))
        .env_clear()
        .env("AUTHLETE_BACKEND", "local")
        .env("AUTHLETE_LOCAL_CONFIG", &config)
        .env("AUTHLETE_GRPC_LISTEN", "127.0.0.1:0")
        .env("AUTHLETE_GRPC_AUTHZ_HTTP_LISTEN", "127.0.0.1:0")
        .env("AUTHLETE_GRPC_CALLER_KEYS", keys)
        .env("AUTHLETE_GRPC_CALLER_POLICY", &policy)
        .env("AUTHLETE_GRPC_LOG_FORMAT", "text")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let rx = stderr_lines(&mut child);
    let running = Running(child);
    let authz = listen(&wait_for(&rx, "serving HTTP forward auth"));
    let grpc = listen(&wait_for(&rx, "serving gRPC"));
    (running, grpc, authz, rx)
}

const WEB_KEY: &str = "web-caller-key-0123456789abcdef";

fn wait_for(rx: &Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            if line.contains(needle) {
                return line;
            }
            seen.push(line);
        }
    }
    panic!("no `{needle}` in:\n{}", seen.join("\n"));
}

fn listen(line: &str) -> String {
    let start = line.find("listen=").expect("a listen field") + "listen=".len();
    line[start..].split_whitespace().next().unwrap().to_owned()
}

fn web(request: impl tonic::IntoRequest<pb::TokenRequest>) -> tonic::Request<pb::TokenRequest> {
    let mut r = request.into_request();
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {WEB_KEY}").parse().unwrap(),
    );
    r
}

/// A client-credentials access token with `scope`.
async fn token(grpc: &str, scope: &str) -> String {
    let mut client = TokenServiceClient::connect(format!("http://{grpc}"))
        .await
        .unwrap();
    let r = client
        .token(web(pb::TokenRequest {
            parameters: format!("grant_type=client_credentials&scope={scope}"),
            client_id: CLIENT.to_owned(),
            client_secret: SECRET.to_owned(),
            ..Default::default()
        }))
        .await
        .expect("Token answers")
        .into_inner();
    assert!(!r.access_token.is_empty(), "{r:?}");
    r.access_token
}

async fn revoke(grpc: &str, token: &str) {
    let mut client = RevocationServiceClient::connect(format!("http://{grpc}"))
        .await
        .unwrap();
    let mut request = tonic::Request::new(pb::RevocationRequest {
        parameters: format!("token={token}"),
        client_id: CLIENT.to_owned(),
        client_secret: SECRET.to_owned(),
        ..Default::default()
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {WEB_KEY}").parse().unwrap(),
    );
    let r = client.revocation(request).await.unwrap().into_inner();
    assert_eq!(r.http.expect("a response").status, 200);
}

/// Waits until `addr` accepts connections.
async fn reachable(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The four behaviours every proxy must show, through the proxy at `addr`;
/// then the authorizer's log holds one line per check and no secret.
async fn behaves(addr: &str, grpc: &str, log: &Receiver<String>) {
    let http = reqwest::Client::new();
    let get = |path: &str, token: Option<&str>| {
        let mut r = http
            .get(format!("http://{addr}{path}"))
            .header("x-authlete-subject", "forged-admin");
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let read = token(grpc, "read").await;

    let ok = get("/read/items?page=1", Some(&read)).await.unwrap();
    assert_eq!(ok.status(), 200);
    let seen: serde_json::Value = serde_json::from_str(&ok.text().await.unwrap()).unwrap();
    assert_eq!(seen["x-authlete-scopes"], "read", "{seen}");
    assert_eq!(seen["x-authlete-client-id"], CLIENT, "{seen}");
    assert!(
        seen.get("x-authlete-subject").is_none(),
        "no subject for client credentials: {seen}"
    );
    assert!(
        seen.get("authorization").is_none(),
        "the token stays at the proxy: {seen}"
    );
    assert!(seen.get("x-authlete-grpc-caller-key").is_none(), "{seen}");

    let missing = get("/read/items", None).await.unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(
        missing.headers()["www-authenticate"],
        r#"Bearer error="invalid_token",error_description="An access token is missing.""#
    );

    let forbidden = get("/write/items", Some(&read)).await.unwrap();
    assert_eq!(forbidden.status(), 403);

    revoke(grpc, &read).await;
    let revoked = get("/read/items", Some(&read)).await.unwrap();
    assert_eq!(revoked.status(), 401);
    let challenge = revoked.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("invalid_token"), "{challenge}");

    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines: Vec<String> = log.try_iter().collect();
    let checks = lines
        .iter()
        .filter(|l| l.contains("rpc=\"Authz\"") || l.contains("rpc=Authz"))
        .count();
    assert_eq!(
        checks,
        4,
        "one log line per /authz check:\n{}",
        lines.join("\n")
    );
    for secret in [read.as_str(), CALLER_KEY, SECRET] {
        assert!(
            lines.iter().all(|l| !l.contains(secret)),
            "a secret in the log:\n{}",
            lines.join("\n")
        );
    }
}

#[tokio::test]
async fn nginx_auth_request() {
    let Some(nginx) = proxy(&["/usr/sbin/nginx", "/usr/bin/nginx"]) else {
        return;
    };
    let dir = temp_dir("nginx");
    let (_authorizer, grpc, authz, log) = authorizer(&dir);
    let upstream = upstream().await;
    let listen = free_port();
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/authz");
    for file in ["nginx.conf", "authz-question.conf", "authz-facts.conf"] {
        let text = std::fs::read_to_string(deploy.join(file)).unwrap();
        let text = text
            .replace("127.0.0.1:8000", &listen)
            .replace("127.0.0.1:8081", &authz)
            .replace("127.0.0.1:8080", &upstream)
            .replace("CHANGE-ME-caller-key", CALLER_KEY);
        std::fs::write(dir.join(file), text).unwrap();
    }
    let child = Command::new(nginx)
        .arg("-p")
        .arg(&dir)
        .args([
            "-e",
            "stderr",
            "-g",
            "daemon off; master_process off;",
            "-c",
        ])
        .arg(dir.join("nginx.conf"))
        .stdin(Stdio::null())
        .spawn()
        .expect("nginx starts");
    let _nginx = Running(child);
    reachable(&listen).await;
    behaves(&listen, &grpc, &log).await;
}

#[tokio::test]
async fn caddy_forward_auth() {
    let Some(caddy) = proxy(&["/usr/bin/caddy", "/usr/local/bin/caddy"]) else {
        return;
    };
    let dir = temp_dir("caddy");
    let (_authorizer, grpc, authz, log) = authorizer(&dir);
    let upstream = upstream().await;
    let listen = free_port();
    let caddyfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/authz/Caddyfile");
    let child = Command::new(caddy)
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&caddyfile)
        .env_clear()
        .env("HOME", &dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("CADDY_LISTEN", &listen)
        .env("AUTHZ_ADDR", &authz)
        .env("AUTHZ_CALLER_KEY", CALLER_KEY)
        .env("RESOURCE_SERVER", &upstream)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("caddy starts");
    let _caddy = Running(child);
    reachable(&listen).await;
    behaves(&listen, &grpc, &log).await;
}
