//! The gRPC edge: the services of `proto/authlete/v1`, converting protobuf to
//! the typed API structs and back.
//!
//! Architecture invariant: this is the only module (with `pb`) that knows
//! protobuf and tonic. Handlers convert, call `api::*`, convert back; flow
//! logic lives in `api`.

mod authorization;
mod backchannel;
mod backchannel_logout;
mod client_attestation;
mod client_registration;
mod convert;
mod credential;
mod device;
mod discovery;
mod federation;
mod grant_management;
mod id_token;
mod introspection;
mod native_sso;
mod pushed_authorization;
mod revocation;
mod status;
mod ticket;
mod token;
mod token_management;
mod userinfo;

use std::sync::Arc;
use std::time::Instant;

pub use status::ERROR_DOMAIN;

use crate::api;
use crate::backend::Backend;

/// Implements every gRPC service on one backend.
#[derive(Clone)]
pub struct Gateway {
    backend: Arc<dyn Backend>,
    sealer: api::Sealer,
    /// Delivers CIBA ping and push notifications.
    notifier: Arc<dyn api::backchannel::Notify>,
}

impl Gateway {
    /// A gateway answering through `backend`, sealing continuations with `sealer`.
    pub fn new(backend: Arc<dyn Backend>, sealer: api::Sealer) -> Self {
        Self {
            backend,
            sealer,
            notifier: Arc::new(crate::notify::HttpNotifier::default()),
        }
    }

    /// The same gateway, delivering CIBA notifications with `notifier`.
    pub fn with_notifier(self, notifier: Arc<dyn api::backchannel::Notify>) -> Self {
        Self { notifier, ..self }
    }

    fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// The sealer for this RPC: continuations it hands out or opens are bound
    /// to the authenticated caller (to nobody without caller authentication).
    fn sealer(&self) -> api::Sealer {
        match crate::auth::current_caller() {
            Some(caller) => self.sealer.for_caller(caller.name),
            None => self.sealer.clone(),
        }
    }
}

/// Times one RPC and writes its log line, the audit line of the call: rpc,
/// caller (when callers are authenticated), action, Authlete request ID and
/// latency; never request or response contents or credentials.
pub(crate) struct RpcLog {
    rpc: &'static str,
    started: Instant,
}

impl RpcLog {
    pub(crate) fn start(rpc: &'static str) -> Self {
        Self {
            rpc,
            started: Instant::now(),
        }
    }

    /// Logs and converts the result of an RPC with an `action`.
    fn outcome<T: api::Answer>(
        self,
        result: Result<api::Outcome<T>, api::Error>,
    ) -> Result<api::Outcome<T>, tonic::Status> {
        if let Ok(o) = &result {
            crate::metrics::action(o.body.action_name());
            if let Some(c) = &o.completion {
                crate::metrics::completion(c.api, &c.action);
            }
        }
        self.finish(result, summary)
    }

    /// Logs and converts the result of an authorizer check (`authz`): its
    /// decision and the outcome it was made from.
    pub(crate) fn decision<D, T: api::Answer>(
        self,
        result: Result<(D, api::Outcome<T>), api::Error>,
    ) -> Result<D, tonic::Status> {
        if let Ok((_, o)) = &result {
            crate::metrics::action(o.body.action_name());
        }
        self.finish(result, |(_, o)| summary(o)).map(|(d, _)| d)
    }

    /// Logs and converts the result of a discovery RPC (no `action`).
    fn document(
        self,
        result: Result<api::discovery::Document, api::Error>,
    ) -> Result<api::discovery::Document, tonic::Status> {
        self.finish(result, |d| Summary {
            action: "",
            authlete_status: Some(d.authlete_status),
            request_id: d.request_id.as_deref(),
        })
    }

    /// Logs and converts the result of a decision RPC.
    fn finished(
        self,
        result: Result<api::Finished, api::Error>,
    ) -> Result<api::Finished, tonic::Status> {
        if let Ok(f) = &result {
            crate::metrics::action(&f.completion.action);
            crate::metrics::completion(f.completion.api, &f.completion.action);
        }
        self.finish(result, |f| Summary {
            action: &f.completion.action,
            authlete_status: None,
            request_id: f.completion.request_id.as_deref(),
        })
    }

    fn finish<T>(
        self,
        result: Result<T, api::Error>,
        summary: impl FnOnce(&T) -> Summary<'_>,
    ) -> Result<T, tonic::Status> {
        let latency_us = self.started.elapsed().as_micros() as u64;
        match result {
            Ok(value) => {
                let Summary {
                    action,
                    authlete_status,
                    request_id,
                } = summary(&value);
                let caller = crate::auth::current_caller();
                let trace_id = crate::telemetry::current_trace_id();
                tracing::info!(
                    rpc = self.rpc,
                    caller = caller.as_ref().map(|c| c.name.as_ref()),
                    via = caller.as_ref().map(|c| c.via.as_str()),
                    outcome = "ok",
                    action,
                    authlete_status,
                    request_id,
                    latency_us,
                    trace_id,
                    "rpc"
                );
                Ok(value)
            }
            Err(error) => Err(status::to_status(self.rpc, &error, latency_us)),
        }
    }
}

fn summary<T: api::Answer>(o: &api::Outcome<T>) -> Summary<'_> {
    Summary {
        action: o.body.action_name(),
        authlete_status: o.authlete_status,
        request_id: o.request_id.as_deref(),
    }
}

/// What the log line of a successful RPC says about it.
struct Summary<'a> {
    action: &'a str,
    authlete_status: Option<u16>,
    request_id: Option<&'a str>,
}
