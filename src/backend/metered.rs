//! A [`Backend`] decorator that times every call and counts it by API and
//! HTTP status (or failure reason). It sits inside any retrying decorator,
//! so each attempt counts.

use std::sync::Arc;
use std::time::Instant;

use super::{Backend, BackendError, BoxFuture, Call, Reply};
use crate::metrics::{Upstream, UpstreamStatus};

/// Records `authlete_grpc_upstream_*` for every call `inner` answers.
pub struct Metered<B: ?Sized> {
    inner: Arc<B>,
    upstream: Upstream,
}

impl<B: ?Sized> Metered<B> {
    /// Meters `inner` into `upstream` (from `Metrics::upstream`).
    pub fn new(inner: Arc<B>, upstream: Upstream) -> Self {
        Self { inner, upstream }
    }
}

impl<B: Backend + ?Sized> Backend for Metered<B> {
    fn call<'a>(&'a self, call: Call) -> BoxFuture<'a, Result<Reply, BackendError>> {
        Box::pin(async move {
            let api = call.api.path();
            let started = Instant::now();
            let result = self.inner.call(call).await;
            let status = match &result {
                Ok(reply) => UpstreamStatus::Http(reply.status),
                Err(e) => match e.http_status() {
                    Some(status) => UpstreamStatus::Http(status),
                    None => UpstreamStatus::Reason(e.reason()),
                },
            };
            self.upstream
                .record(api, status, started.elapsed().as_secs_f64());
            result
        })
    }
}
