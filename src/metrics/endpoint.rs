//! `GET /metrics` on its own plaintext listener (`--metrics-listen`): no
//! request contents, no caller credentials, nothing but the exposition.
//!
//! The body is always prometheus-client's OpenMetrics text. A scraper that
//! asks for `application/openmetrics-text` (Prometheus does by default) gets
//! it under that type; any other gets it as `text/plain; version=0.0.4`,
//! which reads the same text (the families used here are counters, gauges
//! and histograms, which both formats share; `# EOF` and `# UNIT` are comments
//! to a 0.0.4 parser).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use super::Metrics;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves `GET /metrics` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(metrics);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn scrape(State(metrics): State<Arc<Metrics>>, headers: HeaderMap) -> Response {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let content_type = if openmetrics { OPENMETRICS } else { TEXT };
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        metrics.encode(),
    )
        .into_response()
}
