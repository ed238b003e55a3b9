//! Load benchmark of `IntrospectionService/Introspection` against a fast fake
//! Authlete on loopback.
//!
//! Run with `cargo build --release && cargo bench --bench introspection`.
//!
//! It measures, for several concurrency levels, (a) calling the fake Authlete
//! directly over HTTP/1.1 with the JSON the service sends, and (b) calling the
//! service over gRPC; then prints throughput, latency percentiles, the latency
//! the service adds, and resident memory. It asserts nothing about speed.
//!
//! By default the service runs as a child process (the release binary next to
//! this bench executable), so that its memory is measured alone; without the
//! binary, or with `BENCH_MODE=inproc`, it runs inside this process.
//!
//! Environment: `BENCH_SECS` (measured seconds per run, default 3),
//! `BENCH_WARMUP_SECS` (default 1), `BENCH_CONC` (default `1,64,256`),
//! `BENCH_MAX_REQUESTS` (cap per run, default 2000000), `BENCH_MODE`
//! (`child` or `inproc`), `BENCH_SERVICE_THREADS` (the child's
//! `TOKIO_WORKER_THREADS`; default: tokio's, one per core), `BENCH_FAKE`
//! (`inproc` runs the fake Authlete in this process even when the service is
//! a child; by default it is a child process too when the service is).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use authlete_grpc::backend::{ApiVersion, AuthleteBackend, AuthleteSettings};
use authlete_grpc::pb::IntrospectionRequest;
use authlete_grpc::pb::introspection_response::Action;
use authlete_grpc::pb::introspection_service_client::IntrospectionServiceClient;
use authlete_grpc::secret::Secret;
use authlete_grpc::server::{self, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const SERVICE_ID: &str = "1234";
/// The health baseline (c) runs only up to this concurrency, to bound the run time.
const HEALTH_MAX_CONC: usize = 64;
const SERVICE_TOKEN: &str = "tok";
/// The `Authorization` header the service sends to Authlete (v3).
const SERVICE_AUTHORIZATION: &str = "Bearer tok";
const ACCESS_TOKEN: &str = "Ww9Tu2Bd5N8ZfCbFx1hJqL3mRkVs6YpA0eGi7QjXo4U";
/// The JSON body the service sends for the gRPC request the bench makes.
const REQUEST_JSON: &str =
    r#"{"token":"Ww9Tu2Bd5N8ZfCbFx1hJqL3mRkVs6YpA0eGi7QjXo4U","scopes":["read"]}"#;
/// A realistic `/auth/introspection` reply for a valid token.
const INTROSPECTION_REPLY: &str = concat!(
    r#"{"type":"introspectionResponse","resultCode":"A056001","#,
    r#""resultMessage":"[A056001] The access token is valid.","action":"OK","#,
    r#""responseContent":"Bearer error=\"invalid_request\"","#,
    r#""clientId":1140735077,"clientIdAlias":"bench-client","clientIdAliasUsed":false,"#,
    r#""expiresAt":1893456000000,"subject":"john.doe@example.com","#,
    r#""scopes":["openid","profile","email","read"],"#,
    r#""existent":true,"usable":true,"sufficient":true,"refreshable":true,"#,
    r#""properties":[{"key":"tenant","value":"acme","hidden":false}],"#,
    r#""certificateThumbprint":null,"resources":["https://rs.example.com/"],"#,
    r#""accessTokenResources":["https://rs.example.com/"],"authorizationDetails":null,"#,
    r#""grantId":null,"consentedClaims":["name","email"],"grantType":"AUTHORIZATION_CODE","#,
    r#""acr":"urn:mace:incommon:iap:silver","authTime":1700000000,"#,
    r#""clientEntityIdUsed":false,"forCredentialIssuance":false,"cnonceExpiresAt":0,"#,
    r#""dpopNonce":null,"responseSigningRequired":false}"#
);

// ---------------------------------------------------------------------------
// Settings

struct Config {
    warmup: Duration,
    measure: Duration,
    concurrency: Vec<usize>,
    max_requests: usize,
    force_inproc: bool,
    fake_inproc: bool,
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or(default)
}

impl Config {
    fn from_env() -> Self {
        let concurrency = std::env::var("BENCH_CONC")
            .ok()
            .map(|v| {
                v.split(',')
                    .filter_map(|s| s.trim().parse::<usize>().ok())
                    .filter(|c| (1..=4096).contains(c))
                    .collect::<Vec<_>>()
            })
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| vec![1, 64, 256]);
        Self {
            warmup: Duration::from_secs_f64(env_f64("BENCH_WARMUP_SECS", 1.0).min(60.0)),
            measure: Duration::from_secs_f64(env_f64("BENCH_SECS", 3.0).clamp(0.1, 120.0)),
            concurrency,
            max_requests: env_f64("BENCH_MAX_REQUESTS", 2_000_000.0).max(1.0) as usize,
            force_inproc: std::env::var("BENCH_MODE").is_ok_and(|m| m == "inproc"),
            fake_inproc: std::env::var("BENCH_FAKE").is_ok_and(|m| m == "inproc"),
        }
    }
}

// ---------------------------------------------------------------------------
// The fake Authlete: a minimal HTTP/1.1 keep-alive server with canned replies.

#[derive(Default)]
struct FakeCounters {
    introspection: AtomicU64,
    other_ok: AtomicU64,
    rejected: AtomicU64,
}

struct Canned {
    introspection: Vec<u8>,
    configuration: Vec<u8>,
    unauthorized: Vec<u8>,
    not_found: Vec<u8>,
    bad_request: Vec<u8>,
}

fn http_response(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json;charset=UTF-8\r\n\
         Content-Length: {}\r\nRequest-Id: bench-0001\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl Canned {
    fn new() -> Self {
        Self {
            introspection: http_response("200 OK", INTROSPECTION_REPLY),
            configuration: http_response("200 OK", r#"{"issuer":"https://as.example.com"}"#),
            unauthorized: http_response(
                "401 Unauthorized",
                r#"{"resultCode":"A401101","resultMessage":"bad credentials"}"#,
            ),
            not_found: http_response("404 Not Found", r#"{"resultMessage":"no such API"}"#),
            bad_request: http_response("400 Bad Request", r#"{"resultMessage":"bad request"}"#),
        }
    }
}

async fn start_fake() -> std::io::Result<(SocketAddr, Arc<FakeCounters>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let counters = Arc::new(FakeCounters::default());
    let canned = Arc::new(Canned::new());
    let c = counters.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            };
            tokio::spawn(fake_connection(stream, canned.clone(), c.clone()));
        }
    });
    Ok((addr, counters))
}

/// Set in the environment of the bench executable re-run as the fake Authlete.
const FAKE_ROLE_ENV: &str = "AUTHLETE_GRPC_BENCH_ROLE";

/// The fake Authlete: in this process, or this executable re-run as a child
/// process so that the HTTP hop to it crosses processes as the service's does.
enum Fake {
    InProcess(Arc<FakeCounters>),
    Child(Box<FakeChild>),
}

struct FakeChild {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    stdout: tokio::io::BufReader<tokio::process::ChildStdout>,
}

impl Fake {
    fn pid(&self) -> Option<u32> {
        match self {
            Fake::InProcess(_) => None,
            Fake::Child(c) => c.child.id(),
        }
    }

    /// Stops a child fake; returns the counts of calls it served.
    async fn finish(self) -> String {
        match self {
            Fake::InProcess(c) => c.summary(),
            Fake::Child(c) => {
                let FakeChild {
                    mut child,
                    stdin,
                    mut stdout,
                } = *c;
                drop(stdin);
                let mut line = String::new();
                let read = tokio::time::timeout(
                    Duration::from_secs(3),
                    tokio::io::AsyncBufReadExt::read_line(&mut stdout, &mut line),
                )
                .await;
                let _ = child.start_kill();
                let _ = tokio::time::timeout(Duration::from_secs(3), child.wait()).await;
                match read {
                    Ok(Ok(_)) if !line.trim().is_empty() => line.trim().to_owned(),
                    _ => "(the fake Authlete process did not report its counts)".to_owned(),
                }
            }
        }
    }
}

impl FakeCounters {
    fn summary(&self) -> String {
        format!(
            "fake Authlete served {} introspection calls, {} other, rejected {}",
            self.introspection.load(Ordering::Relaxed),
            self.other_ok.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed)
        )
    }
}

/// The fake Authlete as a process of its own: prints `PORT <n>`, serves until
/// stdin closes (at most 10 minutes), then prints its counts.
async fn run_fake_process() {
    let (addr, counters) = match start_fake().await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("fake Authlete: cannot listen: {e}");
            return;
        }
    };
    println!("PORT {}", addr.port());
    let mut stdin = tokio::io::stdin();
    let mut sink = [0u8; 64];
    let _ = tokio::time::timeout(Duration::from_secs(600), async {
        while let Ok(n) = stdin.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    println!("{}", counters.summary());
}

async fn start_fake_child() -> Result<(SocketAddr, Fake), String> {
    let exe = std::env::current_exe().map_err(|e| format!("no executable path: {e}"))?;
    let mut child = tokio::process::Command::new(exe)
        .env(FAKE_ROLE_ENV, "fake")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the fake Authlete process: {e}"))?;
    let stdin = child.stdin.take();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut line = String::new();
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::io::AsyncBufReadExt::read_line(&mut stdout, &mut line),
    )
    .await;
    let port = match read {
        Ok(Ok(_)) => line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse::<u16>().ok()),
        _ => None,
    };
    let Some(port) = port else {
        let _ = child.start_kill();
        return Err(format!(
            "the fake Authlete process did not report its port (got {line:?})"
        ));
    };
    Ok((
        ([127, 0, 0, 1], port).into(),
        Fake::Child(Box::new(FakeChild {
            child,
            stdin,
            stdout,
        })),
    ))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

enum Parsed {
    /// Not a whole request yet.
    Partial,
    /// A whole request of this many bytes; the reply to send; keep the connection.
    Done(usize, bool),
    /// Unusable request: reply 400 and close.
    Bad,
}

fn parse_request(
    buf: &[u8],
    canned: &Canned,
    counters: &FakeCounters,
    out: &mut Vec<u8>,
) -> Parsed {
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() > 64 * 1024 {
            Parsed::Bad
        } else {
            Parsed::Partial
        };
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_end]) else {
        return Parsed::Bad;
    };
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
    let mut content_length = 0usize;
    let mut authorized = false;
    let mut close = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Parsed::Bad;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            match value.parse() {
                Ok(n) => content_length = n,
                Err(_) => return Parsed::Bad,
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Parsed::Bad;
        } else if name.eq_ignore_ascii_case("authorization") {
            authorized = value == SERVICE_AUTHORIZATION;
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    let total = head_end + 4 + content_length;
    if buf.len() < total {
        return Parsed::Partial;
    }
    let prefix = format!("/api/{SERVICE_ID}");
    let api = path.strip_prefix(prefix.as_str());
    let reply = if !authorized {
        counters.rejected.fetch_add(1, Ordering::Relaxed);
        &canned.unauthorized
    } else {
        match (method, api) {
            ("POST", Some("/auth/introspection")) => {
                counters.introspection.fetch_add(1, Ordering::Relaxed);
                &canned.introspection
            }
            ("GET", Some(p)) if p.starts_with("/service/configuration") => {
                counters.other_ok.fetch_add(1, Ordering::Relaxed);
                &canned.configuration
            }
            _ => {
                counters.rejected.fetch_add(1, Ordering::Relaxed);
                &canned.not_found
            }
        }
    };
    out.extend_from_slice(reply);
    Parsed::Done(total, !close)
}

async fn fake_connection(mut stream: TcpStream, canned: Arc<Canned>, counters: Arc<FakeCounters>) {
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(8 * 1024);
    let mut out: Vec<u8> = Vec::with_capacity(4 * 1024);
    loop {
        let mut keep = true;
        loop {
            match parse_request(&buf, &canned, &counters, &mut out) {
                Parsed::Partial => break,
                Parsed::Done(n, k) => {
                    buf.drain(..n);
                    keep = k;
                    if !keep {
                        break;
                    }
                }
                Parsed::Bad => {
                    counters.rejected.fetch_add(1, Ordering::Relaxed);
                    out.extend_from_slice(&canned.bad_request);
                    keep = false;
                    break;
                }
            }
        }
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if !keep {
            let _ = stream.shutdown().await;
            return;
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------
// The service under test: a child process or in-process.

/// Kills the child service when dropped, so that it never outlives the bench.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

enum Service {
    Child(ChildGuard),
    InProcess {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        task: tokio::task::JoinHandle<()>,
    },
}

impl Service {
    fn pid(&self) -> u32 {
        match self {
            Service::Child(c) => c.0.id(),
            Service::InProcess { .. } => std::process::id(),
        }
    }

    async fn stop(self) {
        match self {
            Service::Child(guard) => drop(guard),
            Service::InProcess { mut stop, task } => {
                if let Some(tx) = stop.take() {
                    let _ = tx.send(());
                }
                if tokio::time::timeout(Duration::from_secs(3), task)
                    .await
                    .is_err()
                {
                    println!("note: the in-process service did not stop within 3 s");
                }
            }
        }
    }
}

fn release_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // target/release/deps/introspection-<hash> -> target/release/authlete-grpc
    let dir = exe.parent()?.parent()?;
    let bin = dir.join(format!("authlete-grpc{}", std::env::consts::EXE_SUFFIX));
    bin.is_file().then_some(bin)
}

fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn start_child(bin: &PathBuf, fake: SocketAddr) -> Result<(Service, SocketAddr), String> {
    let port = free_port().map_err(|e| format!("no free port: {e}"))?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut command = Command::new(bin);
    command.env_clear();
    if let Ok(threads) = std::env::var("BENCH_SERVICE_THREADS") {
        command.env("TOKIO_WORKER_THREADS", threads);
    }
    let child = command
        .env("AUTHLETE_BASE_URL", format!("http://{fake}"))
        .env("AUTHLETE_API_VERSION", "V3")
        .env("AUTHLETE_SERVICE_APIKEY", SERVICE_ID)
        .env("AUTHLETE_SERVICE_ACCESSTOKEN", SERVICE_TOKEN)
        .env("AUTHLETE_REQUEST_TIMEOUT_MS", "5000")
        .env("AUTHLETE_GRPC_LISTEN", addr.to_string())
        .env("AUTHLETE_GRPC_DRAIN_TIMEOUT_MS", "1000")
        .env("RUST_LOG", "warn")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    Ok((Service::Child(ChildGuard(child)), addr))
}

async fn start_in_process(fake: SocketAddr) -> Result<(Service, SocketAddr), String> {
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        if std::env::var_os(var).is_some() {
            println!("note: {var} is set; the in-process service's HTTP client may use it");
        }
    }
    let settings = AuthleteSettings {
        base_url: format!("http://{fake}"),
        version: ApiVersion::V3,
        service_api_key: SERVICE_ID.to_owned(),
        service_api_secret: Secret::default(),
        service_access_token: Secret::new(SERVICE_TOKEN),
        connect_timeout: Duration::from_secs(3),
        request_timeout: Duration::from_secs(5),
    };
    let backend = AuthleteBackend::new(&settings)?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let options = ServerOptions {
        drain_timeout: Duration::from_secs(1),
        ..ServerOptions::default()
    };
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) = server::serve(listener, Arc::new(backend), options, shutdown).await {
            println!("note: the in-process service failed: {e}");
        }
    });
    Ok((
        Service::InProcess {
            stop: Some(tx),
            task,
        },
        addr,
    ))
}

/// Polls grpc.health.v1 Check until SERVING, a bounded number of times.
async fn wait_ready(addr: SocketAddr, child: Option<&mut ChildGuard>) -> Result<(), String> {
    let mut child = child;
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_millis(200))
        .timeout(Duration::from_millis(500));
    let mut last = String::from("not tried");
    for _ in 0..100 {
        if let Some(c) = child.as_deref_mut()
            && let Ok(Some(status)) = c.0.try_wait()
        {
            return Err(format!("the service exited early: {status}"));
        }
        match endpoint.connect().await {
            Ok(channel) => {
                let request = HealthCheckRequest {
                    service: String::new(),
                };
                match HealthClient::new(channel).check(request).await {
                    Ok(r) if r.get_ref().status() == ServingStatus::Serving => return Ok(()),
                    Ok(r) => last = format!("health is {:?}", r.get_ref().status()),
                    Err(e) => last = format!("health check failed: {e}"),
                }
            }
            Err(e) => last = format!("cannot connect: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("the service did not become ready: {last}"))
}

// ---------------------------------------------------------------------------
// Load generation

trait Caller: Send + 'static {
    /// One request; `true` when it succeeded with the expected answer.
    fn call(&mut self) -> impl Future<Output = bool> + Send;
}

struct DirectCaller {
    client: reqwest::Client,
    url: Arc<str>,
}

impl Caller for DirectCaller {
    async fn call(&mut self) -> bool {
        let sent = self
            .client
            .post(&*self.url)
            .header("content-type", "application/json;charset=UTF-8")
            .header("authorization", SERVICE_AUTHORIZATION)
            .header("accept", "application/json")
            .body(REQUEST_JSON)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => r.bytes().await.is_ok_and(|b| !b.is_empty()),
            _ => false,
        }
    }
}

struct GrpcCaller {
    client: IntrospectionServiceClient<Channel>,
}

impl Caller for GrpcCaller {
    async fn call(&mut self) -> bool {
        let request = IntrospectionRequest {
            token: ACCESS_TOKEN.to_owned(),
            scopes: vec!["read".to_owned()],
            ..Default::default()
        };
        match self.client.introspection(request).await {
            Ok(r) => r.get_ref().action() == Action::Ok,
            Err(_) => false,
        }
    }
}

/// grpc.health.v1 Check: the gRPC hop alone, without a call to Authlete.
struct HealthCaller {
    client: HealthClient<Channel>,
}

impl Caller for HealthCaller {
    async fn call(&mut self) -> bool {
        let request = HealthCheckRequest {
            service: String::new(),
        };
        match self.client.check(request).await {
            Ok(r) => r.get_ref().status() == ServingStatus::Serving,
            Err(_) => false,
        }
    }
}

struct WorkerResult {
    latencies_ns: Vec<u64>,
    errors: u64,
}

async fn worker<C: Caller>(
    mut caller: C,
    warm_end: Instant,
    end: Instant,
    max_calls: usize,
) -> WorkerResult {
    let mut latencies_ns = Vec::with_capacity(4096);
    let mut errors = 0u64;
    let mut calls = 0usize;
    loop {
        let started = Instant::now();
        if started >= end || calls >= max_calls {
            break;
        }
        let ok = caller.call().await;
        let elapsed = started.elapsed();
        if started >= warm_end {
            calls += 1;
            if ok {
                latencies_ns.push(elapsed.as_nanos() as u64);
            } else {
                errors += 1;
            }
        }
    }
    WorkerResult {
        latencies_ns,
        errors,
    }
}

struct Stats {
    label: String,
    /// CPU time of the service process per measured request, in µs.
    service_cpu_us: Option<f64>,
    /// CPU time of the fake Authlete process per measured request, in µs.
    fake_cpu_us: Option<f64>,
    /// CPU time of this process per measured request, in µs.
    bench_cpu_us: Option<f64>,
    concurrency: usize,
    requests: usize,
    errors: u64,
    rps: f64,
    p50_us: f64,
    p90_us: f64,
    p99_us: f64,
}

fn percentile_us(sorted_ns: &[u64], q: f64) -> f64 {
    if sorted_ns.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted_ns.len() as f64).ceil() as usize).clamp(1, sorted_ns.len());
    sorted_ns[rank - 1] as f64 / 1000.0
}

/// CPU time of a process: the sum of its threads' `sum_exec_runtime` from
/// /proc/<pid>/task/*/schedstat (nanosecond precision; utime/stime in
/// /proc/<pid>/stat are tick-sampled and badly overcount a mostly idle
/// process). Threads that exit in between are not counted.
fn cpu_time(pid: u32) -> Option<Duration> {
    let mut total = 0u64;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(entry) = entry else { continue };
        let Ok(text) = std::fs::read_to_string(entry.path().join("schedstat")) else {
            continue;
        };
        total += text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Some(Duration::from_nanos(total))
}

/// CPU time spent by `pid` between `from` and `to`.
async fn cpu_between(pid: u32, from: Instant, to: Instant) -> Option<Duration> {
    tokio::time::sleep_until(from.into()).await;
    let a = cpu_time(pid)?;
    tokio::time::sleep_until(to.into()).await;
    Some(cpu_time(pid)?.saturating_sub(a))
}

/// Processes whose CPU time a run records, besides this one.
#[derive(Clone, Copy)]
struct Pids {
    service: Option<u32>,
    fake: Option<u32>,
}

async fn measure<C: Caller>(
    label: &str,
    concurrency: usize,
    config: &Config,
    pids: Pids,
    mut make: impl FnMut(usize) -> C,
) -> Stats {
    let start = Instant::now();
    let warm_end = start + config.warmup;
    let end = warm_end + config.measure;
    let max_calls = (config.max_requests / concurrency).max(1);
    let service_cpu = pids
        .service
        .map(|pid| tokio::spawn(cpu_between(pid, warm_end, end)));
    let fake_cpu = pids
        .fake
        .map(|pid| tokio::spawn(cpu_between(pid, warm_end, end)));
    let bench_cpu = tokio::spawn(cpu_between(std::process::id(), warm_end, end));
    let handles: Vec<_> = (0..concurrency)
        .map(|i| tokio::spawn(worker(make(i), warm_end, end, max_calls)))
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    let mut last_finish = warm_end;
    for h in handles {
        match h.await {
            Ok(r) => {
                all.extend_from_slice(&r.latencies_ns);
                errors += r.errors;
            }
            Err(_) => errors += 1,
        }
        last_finish = last_finish.max(Instant::now());
    }
    let window = last_finish
        .saturating_duration_since(warm_end)
        .min(config.measure)
        .max(Duration::from_millis(1));
    all.sort_unstable();
    let requests = all.len();
    let per_request = |cpu: Option<Duration>| {
        cpu.filter(|_| requests > 0)
            .map(|d| d.as_secs_f64() * 1e6 / requests as f64)
    };
    let service_cpu = match service_cpu {
        Some(h) => h.await.ok().flatten(),
        None => None,
    };
    let fake_cpu = match fake_cpu {
        Some(h) => h.await.ok().flatten(),
        None => None,
    };
    let bench_cpu = bench_cpu.await.ok().flatten();
    Stats {
        label: label.to_owned(),
        service_cpu_us: per_request(service_cpu),
        fake_cpu_us: per_request(fake_cpu),
        bench_cpu_us: per_request(bench_cpu),
        concurrency,
        requests,
        errors,
        rps: requests as f64 / window.as_secs_f64(),
        p50_us: percentile_us(&all, 0.50),
        p90_us: percentile_us(&all, 0.90),
        p99_us: percentile_us(&all, 0.99),
    }
}

fn print_header() {
    println!(
        "{:<26}{:>6}{:>10}{:>7}{:>9}{:>8}{:>8}{:>8}{:>9}{:>9}{:>11}",
        "mode",
        "conc",
        "requests",
        "errors",
        "rps",
        "p50_us",
        "p90_us",
        "p99_us",
        "svc_cpu",
        "fake_cpu",
        "client_cpu"
    );
}

fn print_row(s: &Stats) {
    let cpu = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
    println!(
        "{:<26}{:>6}{:>10}{:>7}{:>9.0}{:>8.0}{:>8.0}{:>8.0}{:>9}{:>9}{:>11}",
        s.label,
        s.concurrency,
        s.requests,
        s.errors,
        s.rps,
        s.p50_us,
        s.p90_us,
        s.p99_us,
        cpu(s.service_cpu_us),
        cpu(s.fake_cpu_us),
        cpu(s.bench_cpu_us)
    );
}

// ---------------------------------------------------------------------------
// Memory

/// (VmRSS, VmHWM) in KiB from /proc/<pid>/status.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn memory_text(pid: u32) -> String {
    match memory_kib(pid) {
        Some((rss, hwm)) => format!(
            "VmRSS {:.1} MiB, VmHWM {:.1} MiB",
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        ),
        None => "unavailable (no /proc)".to_owned(),
    }
}

// ---------------------------------------------------------------------------

#[tokio::main]
async fn main() {
    if std::env::var_os(FAKE_ROLE_ENV).is_some() {
        run_fake_process().await;
        return;
    }
    let config = Config::from_env();
    let bench_started = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("authlete-grpc introspection benchmark (loopback, fake Authlete)");
    println!(
        "cores: {cores}; warm-up {:.1} s + measured {:.1} s per run; concurrency {:?}; reply body {} bytes",
        config.warmup.as_secs_f64(),
        config.measure.as_secs_f64(),
        config.concurrency,
        INTROSPECTION_REPLY.len()
    );

    let binary = release_binary();
    let service_in_child = binary.is_some() && !config.force_inproc;
    let fake_started = if service_in_child && !config.fake_inproc {
        println!("fake Authlete: child process (this executable)");
        start_fake_child().await
    } else {
        println!("fake Authlete: in this process");
        start_fake()
            .await
            .map(|(addr, counters)| (addr, Fake::InProcess(counters)))
            .map_err(|e| format!("cannot start the fake Authlete: {e}"))
    };
    let (fake, fake_handle) = match fake_started {
        Ok(v) => v,
        Err(e) => {
            println!("{e}");
            return;
        }
    };
    let fake_pid = fake_handle.pid();

    let started = match (&binary, config.force_inproc) {
        (Some(bin), false) => {
            println!("service: child process {}", bin.display());
            start_child(bin, fake)
        }
        (_, force) => {
            if !force {
                println!(
                    "note: target/release/authlete-grpc not found; run `cargo build --release` first \
                     to measure the service as a separate process. Falling back to in-process."
                );
            }
            println!(
                "service: in-process (the fake Authlete and the client share its memory and CPU)"
            );
            start_in_process(fake).await
        }
    };
    let (mut service, addr) = match started {
        Ok(v) => v,
        Err(e) => {
            println!("cannot start the service: {e}");
            return;
        }
    };
    let ready = match &mut service {
        Service::Child(guard) => wait_ready(addr, Some(guard)).await,
        Service::InProcess { .. } => wait_ready(addr, None).await,
    };
    if let Err(e) = ready {
        println!("{e}");
        service.stop().await;
        return;
    }
    let child_mode = matches!(service, Service::Child(_));
    let pid = service.pid();
    let self_pid = std::process::id();
    let pids = Pids {
        service: child_mode.then_some(pid),
        fake: fake_pid,
    };
    let memory_before = memory_text(pid);
    let bench_memory_before = memory_text(self_pid);

    let direct_client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .expect("a plain HTTP client builds");
    let url: Arc<str> = format!("http://{fake}/api/{SERVICE_ID}/auth/introspection").into();
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .expect("a valid URI")
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5));

    println!();
    println!(
        "CPU us per request (from /proc/<pid>/task/*/schedstat): svc_cpu = service process, \
         fake_cpu = fake Authlete process, client_cpu = this process ({})",
        match (child_mode, fake_pid.is_some()) {
            (true, true) => "the client",
            (true, false) => "client + fake Authlete",
            _ => "client + fake Authlete + service",
        }
    );
    print_header();
    let mut results: Vec<(Stats, Stats, Option<Stats>)> = Vec::new();
    let mut memory_after_runs = Vec::new();
    for &conc in &config.concurrency {
        let direct = measure("a. direct HTTP to fake", conc, &config, pids, |_| {
            DirectCaller {
                client: direct_client.clone(),
                url: url.clone(),
            }
        })
        .await;
        print_row(&direct);

        // One HTTP/2 connection per 16 streams.
        let conns = conc.div_ceil(16);
        let mut channels = Vec::with_capacity(conns);
        for _ in 0..conns {
            match endpoint.connect().await {
                Ok(ch) => channels.push(ch),
                Err(e) => {
                    println!("cannot connect to the service: {e}");
                    break;
                }
            }
        }
        if channels.len() < conns {
            break;
        }
        let label = format!("b. gRPC Introspection/{conns}c");
        let grpc = measure(&label, conc, &config, pids, |i| GrpcCaller {
            client: IntrospectionServiceClient::new(channels[i % conns].clone()),
        })
        .await;
        print_row(&grpc);
        memory_after_runs.push((conc, memory_text(pid)));
        let health = if conc <= HEALTH_MAX_CONC {
            let label = format!("c. gRPC health/{conns}c");
            let health = measure(&label, conc, &config, pids, |i| HealthCaller {
                client: HealthClient::new(channels[i % conns].clone()),
            })
            .await;
            print_row(&health);
            Some(health)
        } else {
            None
        };
        drop(channels);
        results.push((direct, grpc, health));
    }

    println!();
    println!("added latency of the service (b minus a), and of the gRPC hop alone (c minus a):");
    for (a, b, c) in &results {
        let hop = c.as_ref().map_or_else(String::new, |c| {
            format!(
                "; gRPC hop alone p50 {:+.0} us, p99 {:+.0} us",
                c.p50_us - a.p50_us,
                c.p99_us - a.p99_us
            )
        });
        println!(
            "  conc {:>4}: p50 {:+.0} us, p99 {:+.0} us; throughput {:.0} vs {:.0} RPC/s{hop}",
            a.concurrency,
            b.p50_us - a.p50_us,
            b.p99_us - a.p99_us,
            b.rps,
            a.rps
        );
    }

    println!();
    let who = if child_mode {
        format!("service process (pid {pid}, alone)")
    } else {
        "bench process (service + fake Authlete + client, in one process)".to_owned()
    };
    println!("memory of the {who}:");
    println!("  before load:        {memory_before}");
    for (conc, m) in &memory_after_runs {
        println!("  after conc {conc:>4}:    {m}");
    }
    if child_mode {
        println!(
            "memory of the bench process ({}): before {bench_memory_before}; after {}",
            if fake_pid.is_some() {
                "the client"
            } else {
                "client + fake Authlete"
            },
            memory_text(self_pid)
        );
    }
    if let Some(fp) = fake_pid {
        println!("memory of the fake Authlete process: {}", memory_text(fp));
    }
    service.stop().await;
    println!("{}", fake_handle.finish().await);
    println!("total time {:.1} s", bench_started.elapsed().as_secs_f64());
}
