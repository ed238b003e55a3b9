//! Prometheus metrics: one registry per server (no global registry), the
//! gRPC server families with go-grpc-middleware's names, OAuth outcomes,
//! Authlete (or local engine) calls, process and build facts.
//!
//! Every label value comes from a bounded vocabulary: the method set of the
//! descriptor sets ([`methods`]), Authlete's action and API names, fixed
//! reason lists. Nothing from a request (tokens, client IDs, subjects, URLs)
//! ever becomes a label, so `/metrics` can hold no secret.
//!
//! The edge, the caller gate and the continuation code record outcomes
//! through the thin hooks below ([`action`], [`completion`],
//! [`caller_refused`], [`continuation_refused`]): the [`MetricsLayer`] puts
//! the server's metrics and the RPC's method in a task-local for the call, so
//! nothing has to be threaded through, and outside a metered call the hooks
//! do nothing.

pub mod endpoint;
mod families;
mod layer;
pub mod methods;
mod process;

use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

pub use endpoint::serve as serve_endpoint;
pub use families::{Outcomes, Upstream, UpstreamStatus};
pub use layer::{MetricsBody, MetricsLayer, MetricsService};
pub use methods::Method;

use families::GrpcServer;

/// Every metric this service exports, and the registry others add theirs to.
///
/// Build it, let other parts register (`registry_mut`), then freeze it
/// behind an `Arc` and hand it to `ServerOptions::metrics`.
pub struct Metrics {
    registry: Registry,
    pub(crate) server: GrpcServer,
    pub(crate) outcomes: Outcomes,
    upstream: Upstream,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with the server, outcome, upstream, process and build metrics.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let server = GrpcServer::default();
        server.register(&mut registry);
        let outcomes = Outcomes::default();
        outcomes.register(&mut registry);
        let upstream = Upstream::default();
        upstream.register(&mut registry);
        families::register_build_info(&mut registry);
        registry.register_collector(Box::new(process::ProcessCollector));
        Self {
            registry,
            server,
            outcomes,
            upstream,
        }
    }

    /// The registry, for metrics of other parts (`register(&self, &mut Registry)`)
    /// added before the metrics are shared.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The families that describe calls to Authlete (or the local engine),
    /// for [`crate::backend::Metered`].
    pub fn upstream(&self) -> Upstream {
        self.upstream.clone()
    }

    /// Adds `authlete_grpc_local_live_objects{kind}`, read from `counts` at
    /// each scrape (the local engine's held objects by kind).
    pub fn register_live_objects(
        &mut self,
        counts: impl Fn() -> Vec<(&'static str, usize)> + Send + Sync + 'static,
    ) {
        self.registry
            .register_collector(Box::new(families::LiveObjects::new(counts)));
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail; the families' encoders do not either.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// What the hooks record against: the server's metrics and the RPC's method.
#[derive(Clone)]
pub(crate) struct Current {
    pub metrics: Arc<Metrics>,
    pub method: &'static Method,
}

tokio::task_local! {
    pub(crate) static CURRENT: Current;
}

fn with_current(f: impl FnOnce(&Current)) {
    let _ = CURRENT.try_with(f);
}

/// Records Authlete's `action` for the RPC being served (`UNKNOWN` for an
/// action outside the vocabulary this version knows).
pub fn action(name: &str) {
    with_current(|c| c.metrics.outcomes.action(c.method.rpc, name));
}

/// Records the second call the service made itself to finish a flow.
pub fn completion(api: &'static str, action: &str) {
    with_current(|c| c.metrics.outcomes.completion(c.method.rpc, api, action));
}

/// Records a call the caller gate refused (`unauthenticated`,
/// `permission_denied`).
pub fn caller_refused(reason: &'static str) {
    with_current(|c| c.metrics.outcomes.caller_refused(reason));
}

/// Records a continuation refused at a second step, by
/// `api::Refused::as_str` (`forged`, `expired`, `wrong_caller`, ...).
pub fn continuation_refused(reason: &'static str) {
    with_current(|c| c.metrics.outcomes.continuation_refused(reason));
}

#[cfg(test)]
mod tests;
