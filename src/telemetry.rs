//! OpenTelemetry traces over OTLP/gRPC, on top of the `tracing` spans: one
//! server span per RPC (opened by the metrics layer, parent taken from the
//! caller's W3C `traceparent`/`tracestate`), one client span per Authlete
//! call (its context sent on in `traceparent`).
//!
//! Spans carry method names, status codes and Authlete's URL with query
//! values redacted: never request contents, credentials or tokens. Export is
//! batched on the SDK's own thread; a slow or absent collector drops spans,
//! it never blocks or fails an RPC.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::metrics::Method;

/// The `tracing` target of the spans exported; the log output leaves them out.
pub const TARGET: &str = "authlete_grpc::otel";

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are being exported.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Whether tracing is asked for: `--otlp-endpoint` or the standard
/// `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
pub fn wanted(endpoint: Option<&str>) -> bool {
    endpoint.is_some()
        || [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()))
}

/// Builds the OTLP/gRPC exporter and the tracer provider. The standard
/// `OTEL_*` variables apply: headers and timeout (exporter), sampler and its
/// argument, service name (default `authlete-grpc`) and resource attributes.
/// Must run inside the tokio runtime (the exporter's channel lives there).
pub fn provider(endpoint: Option<&str>) -> Result<SdkTracerProvider, String> {
    let mut exporter = SpanExporter::builder().with_tonic();
    if let Some(endpoint) = endpoint {
        exporter = exporter.with_endpoint(endpoint);
    }
    let exporter = exporter
        .build()
        .map_err(|e| format!("cannot build the OTLP exporter: {e}"))?;
    let service = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "authlete-grpc".to_owned());
    let resource = Resource::builder().with_service_name(service).build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// The `tracing` layer that turns this crate's spans into OpenTelemetry
/// spans of `provider`, and turns tracing on.
pub fn layer<S>(provider: &SdkTracerProvider) -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer as _;
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    ENABLED.store(true, Ordering::Relaxed);
    let tracer = provider.tracer("authlete-grpc");
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(
            tracing_subscriber::filter::Targets::new().with_target(TARGET, tracing::Level::INFO),
        )
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HeadersMut<'a>(&'a mut http::HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The server span of one RPC, child of the caller's `traceparent` if any
/// (RPC semantic conventions: `rpc.system`, `rpc.service`, `rpc.method`,
/// `rpc.grpc.status_code`).
pub fn server_span(method: &Method, headers: &http::HeaderMap) -> tracing::Span {
    let span = tracing::info_span!(
        target: TARGET,
        "rpc",
        otel.name = method.rpc,
        otel.kind = "server",
        otel.status_code = Empty,
        rpc.system = "grpc",
        rpc.service = method.service,
        rpc.method = method.method,
        rpc.grpc.status_code = Empty,
    );
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
    span
}

/// Records the status of an RPC on its server span. Per the conventions, a
/// server span is an error only for codes that mean the server failed.
pub fn end_server_span(span: &tracing::Span, code: tonic::Code) {
    use tonic::Code::*;
    span.record("rpc.grpc.status_code", code as i64);
    if matches!(
        code,
        Unknown | DeadlineExceeded | Unimplemented | Internal | Unavailable | DataLoss
    ) {
        span.record("otel.status_code", "ERROR");
    }
}

/// The client span of one Authlete call (HTTP client conventions) and the
/// headers that carry its context to Authlete. Query values are redacted
/// from `url.full`: they can name a subject.
pub fn client_span(method: &str, url: &url::Url) -> (tracing::Span, http::HeaderMap) {
    let mut headers = http::HeaderMap::new();
    if !enabled() {
        return (tracing::Span::none(), headers);
    }
    let mut shown = url.clone();
    if url.query().is_some() {
        let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        shown
            .query_pairs_mut()
            .clear()
            .extend_pairs(names.iter().map(|k| (k.as_str(), "REDACTED")));
    }
    let span = tracing::info_span!(
        target: TARGET,
        "authlete",
        otel.name = method,
        otel.kind = "client",
        otel.status_code = Empty,
        http.request.method = method,
        url.full = shown.as_str(),
        server.address = url.host_str().unwrap_or_default(),
        server.port = url.port_or_known_default().map(i64::from),
        http.response.status_code = Empty,
    );
    TraceContextPropagator::new().inject_context(&span.context(), &mut HeadersMut(&mut headers));
    (span, headers)
}

/// Records Authlete's answer on a client span (`None`: no HTTP status).
pub fn end_client_span(span: &tracing::Span, status: Option<u16>) {
    match status {
        Some(status) => {
            span.record("http.response.status_code", i64::from(status));
            if status >= 400 {
                span.record("otel.status_code", "ERROR");
            }
        }
        None => {
            span.record("otel.status_code", "ERROR");
        }
    }
}

/// The trace ID of the RPC being served, for its log line (`None` when
/// tracing is off).
pub fn current_trace_id() -> Option<String> {
    if !enabled() {
        return None;
    }
    let context = tracing::Span::current().context();
    let span = context.span();
    let sc = span.span_context();
    sc.is_valid().then(|| sc.trace_id().to_string())
}
