//! The metric families and their label sets. Label values are `&'static str`
//! from fixed vocabularies, so recording never allocates a label.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::methods::Method;

/// Prometheus' default buckets, the ones go-grpc-middleware uses, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn histograms<L: EncodeLabelSet + Clone + std::hash::Hash + Eq>() -> Histograms<L> {
    Family::new_with_constructor(histogram as fn() -> Histogram)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct MethodLabels {
    grpc_type: &'static str,
    grpc_service: &'static str,
    grpc_method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct HandledLabels {
    grpc_type: &'static str,
    grpc_service: &'static str,
    grpc_method: &'static str,
    grpc_code: &'static str,
}

/// go-grpc-middleware's server families.
#[derive(Clone)]
pub(crate) struct GrpcServer {
    started: Family<MethodLabels, Counter>,
    handled: Family<HandledLabels, Counter>,
    received: Family<MethodLabels, Counter>,
    sent: Family<MethodLabels, Counter>,
    seconds: Histograms<MethodLabels>,
}

impl Default for GrpcServer {
    fn default() -> Self {
        Self {
            started: Family::default(),
            handled: Family::default(),
            received: Family::default(),
            sent: Family::default(),
            seconds: histograms(),
        }
    }
}

impl GrpcServer {
    pub(crate) fn register(&self, r: &mut Registry) {
        r.register(
            "grpc_server_started",
            "Total number of RPCs started on the server",
            self.started.clone(),
        );
        r.register(
            "grpc_server_handled",
            "Total number of RPCs completed on the server, regardless of success or failure",
            self.handled.clone(),
        );
        r.register(
            "grpc_server_msg_received",
            "Total number of RPC stream messages received on the server",
            self.received.clone(),
        );
        r.register(
            "grpc_server_msg_sent",
            "Total number of gRPC stream messages sent by the server",
            self.sent.clone(),
        );
        r.register(
            "grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server",
            self.seconds.clone(),
        );
    }

    fn labels(m: &Method) -> MethodLabels {
        MethodLabels {
            grpc_type: m.grpc_type,
            grpc_service: m.service,
            grpc_method: m.method,
        }
    }

    pub(crate) fn started(&self, m: &Method) {
        self.started.get_or_create(&Self::labels(m)).inc();
    }

    pub(crate) fn received(&self, m: &Method) -> Counter {
        self.received.get_or_create(&Self::labels(m)).clone()
    }

    pub(crate) fn sent(&self, m: &Method) -> Counter {
        self.sent.get_or_create(&Self::labels(m)).clone()
    }

    pub(crate) fn handled(&self, m: &Method, code: tonic::Code, seconds: f64) {
        let labels = HandledLabels {
            grpc_type: m.grpc_type,
            grpc_service: m.service,
            grpc_method: m.method,
            grpc_code: code_name(code),
        };
        self.handled.get_or_create(&labels).inc();
        self.seconds
            .get_or_create(&Self::labels(m))
            .observe(seconds);
    }
}

/// A code as grpc-go's `codes.Code.String()` spells it (go-grpc-middleware's
/// `grpc_code` values): `Canceled` with one `l`, unlike tonic.
pub(crate) fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "Canceled",
        Unknown => "Unknown",
        InvalidArgument => "InvalidArgument",
        DeadlineExceeded => "DeadlineExceeded",
        NotFound => "NotFound",
        AlreadyExists => "AlreadyExists",
        PermissionDenied => "PermissionDenied",
        ResourceExhausted => "ResourceExhausted",
        FailedPrecondition => "FailedPrecondition",
        Aborted => "Aborted",
        OutOfRange => "OutOfRange",
        Unimplemented => "Unimplemented",
        Internal => "Internal",
        Unavailable => "Unavailable",
        DataLoss => "DataLoss",
        Unauthenticated => "Unauthenticated",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    rpc: &'static str,
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CompletionLabels {
    rpc: &'static str,
    api: &'static str,
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// What the OAuth flows came to: the families no generic exporter has.
#[derive(Clone, Default)]
pub struct Outcomes {
    actions: Family<ActionLabels, Counter>,
    completions: Family<CompletionLabels, Counter>,
    caller_refusals: Family<ReasonLabels, Counter>,
    continuation_refusals: Family<ReasonLabels, Counter>,
}

/// The label of an action name: itself when Authlete's vocabulary (as this
/// version knows it) has it, else `UNKNOWN`, so labels stay bounded.
fn action_label(name: &str) -> &'static str {
    crate::action::known_name(name).unwrap_or("UNKNOWN")
}

impl Outcomes {
    pub(crate) fn register(&self, r: &mut Registry) {
        r.register(
            "authlete_grpc_actions",
            "Authlete actions answered, by RPC (UNKNOWN: an action this version does not know)",
            self.actions.clone(),
        );
        r.register(
            "authlete_grpc_completions",
            "Second steps the service made itself to finish a flow, by RPC, Authlete API and action",
            self.completions.clone(),
        );
        r.register(
            "authlete_grpc_caller_refusals",
            "Calls the caller gate refused, by reason",
            self.caller_refusals.clone(),
        );
        r.register(
            "authlete_grpc_continuation_refusals",
            "Continuations refused at a second step, by reason",
            self.continuation_refusals.clone(),
        );
    }

    pub(crate) fn action(&self, rpc: &'static str, name: &str) {
        let labels = ActionLabels {
            rpc,
            action: action_label(name),
        };
        self.actions.get_or_create(&labels).inc();
    }

    pub(crate) fn completion(&self, rpc: &'static str, api: &'static str, action: &str) {
        let labels = CompletionLabels {
            rpc,
            api,
            action: action_label(action),
        };
        self.completions.get_or_create(&labels).inc();
    }

    pub(crate) fn caller_refused(&self, reason: &'static str) {
        self.caller_refusals
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    pub(crate) fn continuation_refused(&self, reason: &'static str) {
        self.continuation_refusals
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }
}

/// The `status` label of an upstream call: the HTTP status, or the failure
/// reason of a call that got none (`AUTHLETE_TIMEOUT`, ...).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum UpstreamStatus {
    /// Authlete answered with this HTTP status.
    Http(u16),
    /// The call got no HTTP status.
    Reason(&'static str),
}

impl EncodeLabelValue for UpstreamStatus {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        match self {
            Self::Http(status) => EncodeLabelValue::encode(&u64::from(*status), encoder),
            Self::Reason(reason) => EncodeLabelValue::encode(reason, encoder),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    api: &'static str,
    status: UpstreamStatus,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    api: &'static str,
}

/// Calls to Authlete (or the local engine) per API.
#[derive(Clone)]
pub struct Upstream {
    requests: Family<UpstreamLabels, Counter>,
    seconds: Histograms<ApiLabels>,
}

impl Default for Upstream {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            seconds: histograms(),
        }
    }
}

impl Upstream {
    pub(crate) fn register(&self, r: &mut Registry) {
        r.register(
            "authlete_grpc_upstream_requests",
            "Calls to Authlete (or the local engine), by API path and HTTP status or failure reason",
            self.requests.clone(),
        );
        r.register(
            "authlete_grpc_upstream_duration_seconds",
            "Latency of calls to Authlete (or the local engine), by API path",
            self.seconds.clone(),
        );
    }

    /// Records one call to `api` (its path) that took `seconds`.
    pub fn record(&self, api: &'static str, status: UpstreamStatus, seconds: f64) {
        self.requests
            .get_or_create(&UpstreamLabels { api, status })
            .inc();
        self.seconds
            .get_or_create(&ApiLabels { api })
            .observe(seconds);
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: &'static str,
}

/// `authlete_grpc_build_info{version} 1`: a gauge rather than an OpenMetrics
/// info family, so the Prometheus 0.0.4 text served to scrapers that do
/// not ask for OpenMetrics has only types that format knows.
pub(crate) fn register_build_info(r: &mut Registry) {
    let info = Family::<VersionLabels, Gauge>::default();
    info.get_or_create(&VersionLabels {
        version: env!("CARGO_PKG_VERSION"),
    })
    .set(1);
    r.register(
        "authlete_grpc_build_info",
        "The version of this build (always 1)",
        info,
    );
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

type Counts = Box<dyn Fn() -> Vec<(&'static str, usize)> + Send + Sync>;

/// The local engine's held objects by kind, read at each scrape.
pub(crate) struct LiveObjects(Counts);

impl LiveObjects {
    pub(crate) fn new(
        counts: impl Fn() -> Vec<(&'static str, usize)> + Send + Sync + 'static,
    ) -> Self {
        Self(Box::new(counts))
    }
}

impl std::fmt::Debug for LiveObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveObjects")
    }
}

impl Collector for LiveObjects {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "authlete_grpc_local_live_objects",
            "Objects the local engine holds (tickets, codes, grants, ...), by kind",
            None,
            MetricType::Gauge,
        )?;
        for (kind, count) in (self.0)() {
            let labels = KindLabels { kind };
            ConstGauge::new(count as i64).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}
