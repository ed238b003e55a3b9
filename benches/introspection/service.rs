//! The service under test: the release binary started as a child process, or
//! the server run inside this process; and the health check that tells when
//! it is ready.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use authlete_grpc::backend::{
    ApiVersion, AuthleteBackend, AuthleteSettings, Backend, CacheOptions, Cached,
    IntrospectionCache, IntrospectionCacheOptions, Metered, ResilienceMetrics, ResilienceOptions,
    Resilient,
};
use authlete_grpc::metrics::Metrics;
use authlete_grpc::secret::Secret;
use authlete_grpc::server::{self, ServerOptions};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::{SERVICE_ID, SERVICE_TOKEN};

/// Kills the child service when dropped, so that it never outlives the bench.
pub struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub enum Service {
    Child(ChildGuard),
    InProcess {
        stop: Option<oneshot::Sender<()>>,
        task: JoinHandle<()>,
    },
}

impl Service {
    pub fn is_child(&self) -> bool {
        matches!(self, Service::Child(_))
    }

    /// The process the service runs in: its own, or this one.
    pub fn pid(&self) -> u32 {
        match self {
            Service::Child(c) => c.0.id(),
            Service::InProcess { .. } => std::process::id(),
        }
    }

    /// Polls grpc.health.v1 Check until SERVING, a bounded number of times.
    pub async fn wait_ready(&mut self, addr: SocketAddr) -> Result<(), String> {
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| e.to_string())?
            .connect_timeout(Duration::from_millis(200))
            .timeout(Duration::from_millis(500));
        let mut last = String::from("not tried");
        for _ in 0..100 {
            if let Service::Child(c) = self
                && let Ok(Some(status)) = c.0.try_wait()
            {
                return Err(format!("the service exited early: {status}"));
            }
            match endpoint.connect().await {
                Ok(channel) => match health_status(&mut HealthClient::new(channel)).await {
                    Ok(ServingStatus::Serving) => return Ok(()),
                    Ok(status) => last = format!("health is {status:?}"),
                    Err(e) => last = format!("health check failed: {e}"),
                },
                Err(e) => last = format!("cannot connect: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("the service did not become ready: {last}"))
    }

    pub async fn stop(self) {
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

/// grpc.health.v1 Check of the whole server.
pub async fn health_status(
    client: &mut HealthClient<Channel>,
) -> Result<ServingStatus, tonic::Status> {
    let request = HealthCheckRequest {
        service: String::new(),
    };
    Ok(client.check(request).await?.get_ref().status())
}

/// The service's release binary, when it has been built.
pub fn release_binary() -> Option<PathBuf> {
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

/// What the observability comparison turns on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Plain,
    Metrics,
    Traces,
}

/// Starts `bin` with `variant`'s flags; also returns the metrics address.
pub fn start_variant(
    bin: &Path,
    fake: SocketAddr,
    variant: Variant,
    otlp: SocketAddr,
) -> Result<(Service, SocketAddr, Option<SocketAddr>), String> {
    let metrics = (variant != Variant::Plain)
        .then(|| free_port().map(|p| SocketAddr::from(([127, 0, 0, 1], p))))
        .transpose()
        .map_err(|e| format!("no free port: {e}"))?;
    let mut extra = Vec::new();
    if let Some(m) = metrics {
        extra.push(("AUTHLETE_GRPC_METRICS_LISTEN", m.to_string()));
    }
    if variant == Variant::Traces {
        extra.push(("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{otlp}")));
        extra.push(("OTEL_TRACES_SAMPLER", "traceidratio".to_owned()));
        extra.push(("OTEL_TRACES_SAMPLER_ARG", "1.0".to_owned()));
    }
    let (service, addr) = start_child_with(bin, fake, &extra)?;
    Ok((service, addr, metrics))
}

/// In this process: metrics only (traces need a process of their own).
pub async fn start_in_process_variant(
    fake: SocketAddr,
    variant: Variant,
) -> Result<(Service, SocketAddr, Option<SocketAddr>), String> {
    let metrics = (variant != Variant::Plain).then(|| Arc::new(Metrics::new()));
    let endpoint = match &metrics {
        Some(m) => {
            let l = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            let addr = l.local_addr().map_err(|e| e.to_string())?;
            tokio::spawn(authlete_grpc::metrics::serve_endpoint(
                l,
                m.clone(),
                std::future::pending(),
            ));
            Some(addr)
        }
        None => None,
    };
    let (service, addr) = start_in_process_with(fake, metrics, Duration::ZERO).await?;
    Ok((service, addr, endpoint))
}

/// The introspection cache's TTL in the cached service.
const CACHE_TTL: Duration = Duration::from_secs(600);

/// The service with the introspection cache on: `bin` as a child, or in
/// this process without one.
pub async fn start_cached(
    bin: Option<&Path>,
    fake: SocketAddr,
) -> Result<(Service, SocketAddr), String> {
    match bin {
        Some(bin) => {
            let ttl = CACHE_TTL.as_millis().to_string();
            start_child_with(
                bin,
                fake,
                &[("AUTHLETE_GRPC_INTROSPECTION_CACHE_TTL_MS", ttl)],
            )
        }
        None => start_in_process_with(fake, None, CACHE_TTL).await,
    }
}

/// Starts `bin` with a clean environment that points it at the fake Authlete.
pub fn start_child(bin: &Path, fake: SocketAddr) -> Result<(Service, SocketAddr), String> {
    start_child_with(bin, fake, &[])
}

fn start_child_with(
    bin: &Path,
    fake: SocketAddr,
    extra: &[(&str, String)],
) -> Result<(Service, SocketAddr), String> {
    let port = free_port().map_err(|e| format!("no free port: {e}"))?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut command = Command::new(bin);
    command.env_clear();
    if let Ok(threads) = std::env::var("BENCH_SERVICE_THREADS") {
        command.env("TOKIO_WORKER_THREADS", threads);
    }
    command.envs(extra.iter().map(|(k, v)| (k, v)));
    let child = command
        .env("AUTHLETE_BASE_URL", format!("http://{fake}"))
        .env("AUTHLETE_API_VERSION", "V3")
        .env("AUTHLETE_SERVICE_APIKEY", SERVICE_ID)
        .env("AUTHLETE_SERVICE_ACCESSTOKEN", SERVICE_TOKEN)
        .env("AUTHLETE_REQUEST_TIMEOUT_MS", "5000")
        .env("AUTHLETE_GRPC_LISTEN", addr.to_string())
        .env("AUTHLETE_GRPC_DRAIN_TIMEOUT_MS", "1000")
        // Loopback only, and the fake has no callers to tell apart.
        .env("AUTHLETE_GRPC_INSECURE_NO_CALLER_AUTH", "true")
        .env("RUST_LOG", "warn")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    Ok((Service::Child(ChildGuard(child)), addr))
}

/// Runs the server on a task of this process, pointed at the fake Authlete.
pub async fn start_in_process(fake: SocketAddr) -> Result<(Service, SocketAddr), String> {
    start_in_process_with(fake, None, Duration::ZERO).await
}

async fn start_in_process_with(
    fake: SocketAddr,
    metrics: Option<Arc<Metrics>>,
    introspection_ttl: Duration,
) -> Result<(Service, SocketAddr), String> {
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
        max_reply_bytes: authlete_grpc::backend::DEFAULT_MAX_REPLY_BYTES,
    };
    // The binary's composition:
    // IntrospectionCache(Cached(Resilient(Metered(authlete)))).
    let authlete: Arc<dyn Backend> = Arc::new(AuthleteBackend::new(&settings)?);
    let authlete: Arc<dyn Backend> = match &metrics {
        Some(m) => Arc::new(Metered::new(authlete, m.upstream())),
        None => authlete,
    };
    let resilience = ResilienceMetrics::default();
    let resilient = Arc::new(Resilient::new(
        authlete,
        ResilienceOptions::default(),
        resilience.clone(),
    ));
    let cached = Arc::new(Cached::new(resilient, CacheOptions::default(), resilience));
    let introspection = IntrospectionCacheOptions {
        ttl: introspection_ttl,
        ..IntrospectionCacheOptions::default()
    };
    let backend = Arc::new(IntrospectionCache::new(
        cached,
        introspection,
        Default::default(),
    ));
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = oneshot::channel::<()>();
    let options = ServerOptions {
        drain_timeout: Duration::from_secs(1),
        metrics,
        ..ServerOptions::default()
    };
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) = server::serve(listener, backend, options, shutdown).await {
            println!("note: the in-process service failed: {e}");
        }
    });
    let service = Service::InProcess {
        stop: Some(tx),
        task,
    };
    Ok((service, addr))
}
