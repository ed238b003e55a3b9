//! The load loops: a caller per kind of request, and workers that call it in
//! a loop at a given concurrency and gather the latencies into `Stats`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authlete_grpc::pb::discovery_service_client::DiscoveryServiceClient;
use authlete_grpc::pb::introspection_response::Action;
use authlete_grpc::pb::introspection_service_client::IntrospectionServiceClient;
use authlete_grpc::pb::{IntrospectionRequest, ServiceConfigurationRequest};
use envoy_types::ext_authz::v3::pb::CheckRequest;
use envoy_types::pb::envoy::service::auth::v3::AttributeContext;
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{
    HttpRequest, Request as AttrRequest,
};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::stats::{CpuProbe, Stats, per_request_us, percentile_us};
use crate::{Config, SERVICE_AUTHORIZATION, SERVICE_ID, service};

/// The access token the gRPC callers introspect, as a literal for `concat!`.
macro_rules! access_token {
    () => {
        "Ww9Tu2Bd5N8ZfCbFx1hJqL3mRkVs6YpA0eGi7QjXo4U"
    };
}
pub(crate) const ACCESS_TOKEN: &str = access_token!();
/// The JSON body the service sends for the gRPC request the bench makes.
const REQUEST_JSON: &str = concat!(r#"{"token":""#, access_token!(), r#"","scopes":["read"]}"#);

pub trait Caller: Send + 'static {
    /// One request; `true` when it succeeded with the expected answer.
    fn call(&mut self) -> impl Future<Output = bool> + Send;
}

/// The fake Authlete's introspection API over HTTP/1.1, called directly with
/// the request the service makes; clones share one connection pool.
#[derive(Clone)]
pub struct DirectCaller {
    client: reqwest::Client,
    url: Arc<str>,
}

impl DirectCaller {
    pub fn new(fake: SocketAddr) -> Self {
        let client = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .expect("a plain HTTP client builds");
        let url = format!("http://{fake}/api/{SERVICE_ID}/auth/introspection").into();
        Self { client, url }
    }
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

/// The service's `IntrospectionService/Introspection` over gRPC.
pub struct GrpcCaller {
    client: IntrospectionServiceClient<Channel>,
}

impl GrpcCaller {
    pub fn new(channel: Channel) -> Self {
        Self {
            client: IntrospectionServiceClient::new(channel),
        }
    }
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

/// The service's `DiscoveryService/ServiceConfiguration`: after the first
/// call, answered from the discovery cache.
pub struct DiscoveryCaller {
    client: DiscoveryServiceClient<Channel>,
}

impl DiscoveryCaller {
    pub fn new(channel: Channel) -> Self {
        Self {
            client: DiscoveryServiceClient::new(channel),
        }
    }
}

impl Caller for DiscoveryCaller {
    async fn call(&mut self) -> bool {
        let request = ServiceConfigurationRequest::default();
        match self.client.service_configuration(request).await {
            Ok(r) => r.get_ref().http.as_ref().is_some_and(|h| h.status == 200),
            Err(_) => false,
        }
    }
}

/// Envoy's ext_authz `Check` for a request needing scope `read`, with the
/// token the other callers introspect: allowed when the status is OK.
pub struct CheckCaller {
    client: AuthorizationClient<Channel>,
}

impl CheckCaller {
    pub fn new(channel: Channel) -> Self {
        Self {
            client: AuthorizationClient::new(channel),
        }
    }
}

fn check_request() -> CheckRequest {
    let http = HttpRequest {
        method: "GET".to_owned(),
        scheme: "https".to_owned(),
        host: "rs.example.com".to_owned(),
        path: "/api/items".to_owned(),
        headers: [("authorization".to_owned(), format!("Bearer {ACCESS_TOKEN}"))].into(),
        ..Default::default()
    };
    CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(AttrRequest {
                http: Some(http),
                ..Default::default()
            }),
            context_extensions: [("scopes".to_owned(), "read".to_owned())].into(),
            ..Default::default()
        }),
    }
}

impl Caller for CheckCaller {
    async fn call(&mut self) -> bool {
        match self.client.check(check_request()).await {
            Ok(r) => r.get_ref().status.as_ref().is_some_and(|s| s.code == 0),
            Err(_) => false,
        }
    }
}

/// grpc.health.v1 Check: the gRPC hop alone, without a call to Authlete.
pub struct HealthCaller {
    client: HealthClient<Channel>,
}

impl HealthCaller {
    pub fn new(channel: Channel) -> Self {
        Self {
            client: HealthClient::new(channel),
        }
    }
}

impl Caller for HealthCaller {
    async fn call(&mut self) -> bool {
        matches!(
            service::health_status(&mut self.client).await,
            Ok(ServingStatus::Serving)
        )
    }
}

/// The endpoint of the service the gRPC callers use.
pub fn endpoint(service: SocketAddr) -> Endpoint {
    Endpoint::from_shared(format!("http://{service}"))
        .expect("a valid URI")
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
}

/// `n` connections (HTTP/2 channels) to the service.
pub async fn connect(
    endpoint: &Endpoint,
    n: usize,
) -> Result<Vec<Channel>, tonic::transport::Error> {
    let mut channels = Vec::with_capacity(n);
    for _ in 0..n {
        channels.push(endpoint.connect().await?);
    }
    Ok(channels)
}

/// Processes whose CPU time a run records, besides this one.
#[derive(Clone, Copy)]
pub struct Pids {
    pub service: Option<u32>,
    pub fake: Option<u32>,
}

struct WorkerResult {
    latencies_ns: Vec<u64>,
    errors: u64,
}

/// Calls in a loop until `end` or `max_calls` measured calls; records the
/// calls that start after `warm_end`.
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

/// Waits for the workers: their latencies, their errors, and when the last
/// one finished (not before `warm_end`).
async fn join_workers(
    handles: Vec<JoinHandle<WorkerResult>>,
    warm_end: Instant,
) -> (Vec<u64>, u64, Instant) {
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
    (all, errors, last_finish)
}

/// One run: `concurrency` workers with callers from `make`, a warm-up, then
/// the measured window.
pub async fn measure<C: Caller>(
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
    let service_cpu = CpuProbe::start(pids.service, warm_end, end);
    let fake_cpu = CpuProbe::start(pids.fake, warm_end, end);
    let bench_cpu = CpuProbe::start(Some(std::process::id()), warm_end, end);
    let handles: Vec<_> = (0..concurrency)
        .map(|i| tokio::spawn(worker(make(i), warm_end, end, max_calls)))
        .collect();
    let (mut all, errors, last_finish) = join_workers(handles, warm_end).await;
    let window = last_finish
        .saturating_duration_since(warm_end)
        .min(config.measure)
        .max(Duration::from_millis(1));
    all.sort_unstable();
    let requests = all.len();
    Stats {
        label: label.to_owned(),
        service_cpu_us: per_request_us(service_cpu.finish().await, requests),
        fake_cpu_us: per_request_us(fake_cpu.finish().await, requests),
        bench_cpu_us: per_request_us(bench_cpu.finish().await, requests),
        concurrency,
        requests,
        errors,
        rps: requests as f64 / window.as_secs_f64(),
        p50_us: percentile_us(&all, 0.50),
        p90_us: percentile_us(&all, 0.90),
        p99_us: percentile_us(&all, 0.99),
    }
}
