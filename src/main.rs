//! The `authlete-grpc` binary: parse settings, pick the backend, serve.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

use authlete_grpc::auth::tls::install_crypto_provider;
use authlete_grpc::authz::http::AuthzHttpListener;
use authlete_grpc::backend::local::{self, LocalConfig};
use authlete_grpc::backend::{
    Api, AuthleteBackend, Backend, BackendError, Cached, Call, IntrospectionCache,
    IntrospectionCacheMetrics, LocalBackend, Metered, ResilienceMetrics, Resilient,
};
use authlete_grpc::config::{BackendChoice, Cli, LogFormat};
use authlete_grpc::metrics::{self, Metrics};
use authlete_grpc::server::{self, HealthListener, ServerOptions};
use authlete_grpc::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let traces = match telemetry::wanted(cli.otlp_endpoint.as_deref())
        .then(|| telemetry::provider(cli.otlp_endpoint.as_deref()))
        .transpose()
    {
        Ok(traces) => traces,
        Err(e) => {
            eprintln!("authlete-grpc: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_tracing(cli.log_format, traces.as_ref());
    let code = run(cli, traces.is_some()).await;
    if let Some(provider) = traces {
        // Sends the spans still queued; a collector that is down only costs
        // the exporter's timeout here, at exit.
        let _ = provider.shutdown();
    }
    code
}

async fn run(cli: Cli, traces: bool) -> ExitCode {
    let mut metrics = cli.metrics_listen.map(|_| Metrics::new());
    // One rustls provider for the listener and for reqwest (aws-lc-rs).
    install_crypto_provider();
    // Who may call is settled before anything starts: with the Authlete
    // backend, no caller authentication means no start (unless told so).
    let authlete = matches!(cli.backend_choice(), Ok(BackendChoice::Authlete(_)));
    let auth = match cli.auth.plan(authlete, cli.listen) {
        Ok(plan) => plan,
        Err(e) => return fail(&e),
    };
    // /authz follows the main listener's rule: no caller authentication, loopback only.
    if let Some(addr) = cli.authz.authz_http_listen
        && auth.caller_auth.is_none()
        && !addr.ip().is_loopback()
        && !cli.auth.insecure_no_caller_auth
    {
        return fail(&format!(
            "refusing to start: without caller authentication /authz listens on loopback only, not {addr}"
        ));
    }
    for warning in &auth.warnings {
        tracing::warn!("{warning}");
    }
    let tls = match auth.tls.as_ref().map(|t| t.server_config()).transpose() {
        Ok(tls) => tls,
        Err(e) => return fail(&e),
    };
    let mut backend: Arc<dyn Backend> = match cli.backend_choice() {
        Ok(BackendChoice::Authlete(settings)) => match AuthleteBackend::new(&settings) {
            Ok(b) => {
                tracing::info!(base_url = %settings.base_url, version = ?settings.version, "backend: Authlete");
                Arc::new(b)
            }
            Err(e) => return fail(&e),
        },
        Ok(BackendChoice::Local) => match start_local(&cli).await {
            Ok(engine) => {
                if let Some(m) = metrics.as_mut() {
                    let counted = engine.clone();
                    m.register_live_objects(move || counted.live_objects_by_kind().to_vec());
                }
                engine
            }
            Err(e) => return fail(&e),
        },
        Err(e) => return fail(&e.to_string()),
    };
    // Metered innermost, so that each attempt of a retried call counts.
    if let Some(m) = &metrics {
        backend = Arc::new(Metered::new(backend, m.upstream()));
    }
    let authz_metrics = authlete_grpc::authz::AuthzMetrics::default();
    if let Some(m) = metrics.as_mut() {
        authz_metrics.register(m.registry_mut());
    }
    let resilience_metrics = ResilienceMetrics::default();
    let introspection_metrics = IntrospectionCacheMetrics::default();
    let limits_metrics = authlete_grpc::limits::LimitsMetrics::default();
    if let Some(m) = metrics.as_mut() {
        resilience_metrics.register(m.registry_mut());
        introspection_metrics.register(m.registry_mut());
        limits_metrics.register(m.registry_mut());
    }
    let backend = resilient(&cli, backend, resilience_metrics, introspection_metrics);
    let metrics = metrics.map(Arc::new);
    if let (Some(addr), Some(m)) = (cli.metrics_listen, &metrics) {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => {
                let bound = l.local_addr().unwrap_or(addr);
                tracing::info!(listen = %bound, "serving Prometheus metrics on /metrics");
                let m = m.clone();
                tokio::spawn(async move {
                    if let Err(e) = metrics::serve_endpoint(l, m, std::future::pending()).await {
                        tracing::error!(error = %e, "the metrics listener stopped");
                    }
                });
            }
            Err(e) => return fail(&format!("cannot listen on {addr} for metrics: {e}")),
        }
    }
    let listener = match tokio::net::TcpListener::bind(cli.listen).await {
        Ok(l) => l,
        Err(e) => return fail(&format!("cannot listen on {}: {e}", cli.listen)),
    };
    let health_listener = match cli.auth.health_listen {
        Some(addr) => match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => {
                tracing::info!(listen = %addr, "serving plaintext grpc.health.v1");
                Some(HealthListener::new(l))
            }
            Err(e) => return fail(&format!("cannot listen on {addr} for health: {e}")),
        },
        None => None,
    };
    let authz_http_listener = match cli.authz.authz_http_listen {
        Some(addr) => match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => {
                let bound = l.local_addr().unwrap_or(addr);
                tracing::info!(listen = %bound, "serving HTTP forward auth on /authz");
                Some(AuthzHttpListener::new(l))
            }
            Err(e) => return fail(&format!("cannot listen on {addr} for /authz: {e}")),
        },
        None => None,
    };
    // The bound address, so that `--listen 127.0.0.1:0` tells callers the port.
    let listen = listener
        .local_addr()
        .map_or_else(|_| cli.listen.to_string(), |a| a.to_string());
    tracing::info!(
        listen = %listen,
        tls = tls.is_some(),
        mtls = auth.tls.as_ref().is_some_and(|t| t.client_ca.is_some()),
        caller_auth = auth.caller_auth.is_some(),
        reflection = auth.reflection,
        "serving gRPC"
    );
    if matches!(cli.backend_choice(), Ok(BackendChoice::Authlete(_))) {
        tokio::spawn(check_authlete(backend.clone()));
    }
    let sealer = match cli.sealer() {
        Ok((sealer, true)) => sealer,
        Ok((sealer, false)) => {
            tracing::info!(
                "continuations are sealed with a key of this process only: with several replicas, give them all \
                 the same AUTHLETE_GRPC_CONTINUATION_KEY"
            );
            sealer
        }
        Err(e) => return fail(&e.to_string()),
    };
    let notify = match cli.notify_options() {
        Ok(notify) => notify,
        Err(e) => return fail(&e.to_string()),
    };
    let options = ServerOptions {
        notify,
        max_message_bytes: cli.max_message_bytes,
        max_encoding_bytes: server::max_encoding_bytes(cli.resilience.authlete_max_reply_bytes),
        shutdown_delay: Duration::from_millis(cli.shutdown_delay_ms),
        drain_timeout: Duration::from_millis(cli.drain_timeout_ms),
        sealer,
        caller_auth: auth.caller_auth.map(Arc::new),
        tls,
        reflection: auth.reflection,
        health_listener,
        limits: cli.limits.limits(),
        limits_metrics,
        metrics,
        traces,
        authz: cli.authz.options(cli.auth.trust_xfcc, authz_metrics),
        authz_http_listener,
    };
    match server::serve(listener, backend, options, server::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("server failed: {e}")),
    }
}

/// Starts the local engine (and its HTTP API when asked). What a developer
/// needs to use it (demo clients, generated secrets) goes to stdout once;
/// the log stream never carries secrets.
async fn start_local(cli: &Cli) -> Result<Arc<LocalBackend>, String> {
    let config = match &cli.local_config {
        Some(path) => LocalConfig::load(path)?,
        None => LocalConfig::default(),
    };
    let engine = Arc::new(LocalBackend::new(config)?);
    tracing::warn!(
        config = cli.local_config.as_deref().unwrap_or("built-in defaults"),
        "backend: the local engine, FOR DEVELOPMENT ONLY: state lives in this process's memory and is lost on \
         exit; set AUTHLETE_* settings to use Authlete"
    );
    println!("authlete-grpc local engine (development only)");
    for line in engine.startup_summary() {
        println!("  {line}");
    }
    if let Some(addr) = cli.local_http_listen().map_err(|e| e.to_string())? {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr} for the local engine's HTTP API: {e}"))?;
        let bound = listener.local_addr().unwrap_or(addr);
        let key = engine.http_credentials().api_key();
        println!(
            "  Authlete REST API: http://{bound}/api/... (v2) and http://{bound}/api/{key}/... (v3);"
        );
        println!("  use it with AUTHLETE_BASE_URL=http://{bound} and:");
        for line in engine.http_credentials().summary() {
            println!("    {line}");
        }
        tracing::info!(listen = %bound, "serving the local engine's Authlete REST API");
        let served = engine.clone();
        tokio::spawn(async move {
            if let Err(e) = local::http::serve(listener, served, std::future::pending()).await {
                tracing::error!(error = %e, "the local engine's HTTP API stopped");
            }
        });
    }
    Ok(engine)
}

/// The decorators every backend runs behind, composed here only:
/// `IntrospectionCache(Cached(Resilient(backend)))` (README, "Resilience"
/// and "Introspection cache").
fn resilient(
    cli: &Cli,
    backend: Arc<dyn Backend>,
    metrics: ResilienceMetrics,
    introspection_metrics: IntrospectionCacheMetrics,
) -> Arc<dyn Backend> {
    let timeout = Duration::from_millis(cli.authlete_request_timeout_ms);
    let options = cli.resilience.resilience(timeout);
    let resilient = Arc::new(Resilient::new(backend, options, metrics.clone()));
    let cached = Arc::new(Cached::new(resilient, cli.resilience.cache(), metrics));
    let introspection = cli.resilience.introspection_cache();
    if !introspection.ttl.is_zero() {
        tracing::info!(
            ttl_ms = introspection.ttl.as_millis() as u64,
            "introspection cache on: other replicas may still answer a revoked token from their cache for this long"
        );
    }
    Arc::new(IntrospectionCache::new(
        cached,
        introspection,
        introspection_metrics,
    ))
}

/// Reads the discovery document once at startup so that wrong credentials
/// show up in the log at once, not at the first OAuth request; through the
/// cache, so the document that web tiers ask for first (no `pretty`, no
/// `patch`) is already cached (warm start).
async fn check_authlete(backend: Arc<dyn Backend>) {
    let call = Call {
        api: Api::ServiceConfiguration,
        query: Vec::new(),
        body: None,
    };
    match backend.call(call).await {
        Ok(_) => {
            tracing::info!("Authlete answered the startup check; the discovery document is cached")
        }
        Err(
            e @ BackendError::Status {
                status: 401 | 403, ..
            },
        ) => {
            tracing::error!(error = %e, "Authlete rejected this service's credentials: every RPC will fail until AUTHLETE_* settings are fixed");
        }
        Err(e) => tracing::warn!(error = %e, "Authlete startup check failed"),
    }
}

fn init_tracing(format: LogFormat, traces: Option<&SdkTracerProvider>) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // The exported spans are not log output.
    let filter = match format!("{}=off", telemetry::TARGET).parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    // Colour codes only for a person at a terminal, not for log collectors.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let fmt = match format {
        LogFormat::Text => fmt.with_filter(filter).boxed(),
        LogFormat::Json => fmt.json().with_filter(filter).boxed(),
    };
    let otel = traces.map(telemetry::layer);
    tracing_subscriber::registry().with(fmt).with(otel).init();
}

fn fail(message: &str) -> ExitCode {
    tracing::error!("{message}");
    eprintln!("authlete-grpc: {message}");
    ExitCode::FAILURE
}
