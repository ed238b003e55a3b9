//! Decisions of the authorizer edges, as prometheus-client counters. Labels
//! come from closed vocabularies (the surface, the decision, the action or
//! `missing_token`), never from request values.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::{Decision, Surface};

/// The labels of `authlete_grpc_authz_decisions_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct DecisionLabels {
    /// `envoy` (ext_authz `Check`) or `http` (`/authz`).
    pub surface: &'static str,
    /// `allowed`, `denied`, or `error` (Authlete could not be asked).
    pub decision: &'static str,
    /// `ok`, `missing_token`, `unauthorized`, `forbidden`, `bad_request`,
    /// `internal_server_error`, `unknown_action`, or `authlete_error`.
    pub reason: &'static str,
}

/// What the authorizers count. Cheap to clone: the counters are shared.
#[derive(Debug, Clone, Default)]
pub struct AuthzMetrics {
    decisions: Family<DecisionLabels, Counter>,
}

impl AuthzMetrics {
    /// Registers the family as `authlete_grpc_authz_decisions` (`_total`).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "authlete_grpc_authz_decisions",
            "authorizer decisions (Envoy ext_authz, HTTP forward auth) by surface, decision and reason",
            self.decisions.clone(),
        );
    }

    /// The count of one label set, for tests and dashboards' checks.
    pub fn count(&self, surface: Surface, decision: &'static str, reason: &'static str) -> u64 {
        self.decisions
            .get_or_create(&labels(surface, decision, reason))
            .get()
    }

    pub(super) fn decided(&self, surface: Surface, decision: &Decision, reason: &'static str) {
        let decision = match decision {
            Decision::Allow { .. } => "allowed",
            Decision::Deny(_) => "denied",
        };
        self.decisions
            .get_or_create(&labels(surface, decision, reason))
            .inc();
    }

    pub(super) fn failed(&self, surface: Surface) {
        self.decisions
            .get_or_create(&labels(surface, "error", "authlete_error"))
            .inc();
    }
}

fn labels(surface: Surface, decision: &'static str, reason: &'static str) -> DecisionLabels {
    DecisionLabels {
        surface: match surface {
            Surface::Envoy => "envoy",
            Surface::Http => "http",
        },
        decision,
        reason,
    }
}
