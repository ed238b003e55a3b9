//! The one tower layer that observes every RPC: outermost, outside the caller
//! gate, so refused callers and undecodable requests count too. It counts
//! the RPC as started, counts messages in both bodies, and counts it as
//! handled with its `grpc-status` (from trailers-only headers, or from the
//! trailers at the end of the response body; a body dropped before its
//! end is `Canceled`). With tracing on it also holds the RPC's server span
//! until the status is known.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::{Buf, Bytes};
use http_body::{Body, Frame, SizeHint};
use prometheus_client::metrics::counter::Counter;
use tonic::Code;

use super::methods::{self, Method};
use super::{CURRENT, Current, Metrics};

/// Observes every call: metrics when given a registry, a server span when
/// tracing is on.
#[derive(Debug, Clone, Default)]
pub struct MetricsLayer {
    metrics: Option<Arc<Metrics>>,
    traces: bool,
}

impl MetricsLayer {
    /// Records into `metrics` (none: no metrics), and opens a server span
    /// per RPC when `traces`.
    pub fn new(metrics: Option<Arc<Metrics>>, traces: bool) -> Self {
        Self { metrics, traces }
    }
}

impl<S> tower_layer::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`MetricsLayer`] makes.
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    inner: S,
    layer: MetricsLayer,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> tower_service::Service<http::Request<B>> for MetricsService<S>
where
    S: tower_service::Service<http::Request<MetricsBody<B>>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Send + 'static,
{
    type Response = http::Response<MetricsBody<R>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let started = Instant::now();
        let method = methods::lookup(request.uri().path());
        let span = self
            .layer
            .traces
            .then(|| crate::telemetry::server_span(method, request.headers()));
        let Some(metrics) = self.layer.metrics.clone() else {
            let request = request.map(|b| MetricsBody::plain(b, None));
            let future = self.inner.call(request);
            return Box::pin(async move {
                let response = traced(future, span.clone()).await?;
                let done = Done {
                    metrics: None,
                    method,
                    started,
                    span,
                };
                Ok(finish_or_wrap(response, done, None))
            });
        };
        metrics.server.started(method);
        let received = metrics.server.received(method);
        let sent = metrics.server.sent(method);
        let current = Current {
            metrics: metrics.clone(),
            method,
        };
        let request = request.map(|b| MetricsBody::plain(b, Some(received)));
        // The caller gate refuses synchronously, inside `call`: its hook needs
        // the task-local there too, not only while the future runs.
        let future = CURRENT.sync_scope(current.clone(), || self.inner.call(request));
        let future = CURRENT.scope(current, future);
        Box::pin(async move {
            let response = traced(future, span.clone()).await?;
            let done = Done {
                metrics: Some(metrics),
                method,
                started,
                span,
            };
            Ok(finish_or_wrap(response, done, Some(sent)))
        })
    }
}

/// Runs `future` inside the server span, when there is one.
async fn traced<F: Future>(future: F, span: Option<tracing::Span>) -> F::Output {
    match span {
        Some(span) => tracing::Instrument::instrument(future, span).await,
        None => future.await,
    }
}

/// A trailers-only response carries its status in the headers: done now.
/// Otherwise the body finishes the RPC when its trailers pass.
fn finish_or_wrap<R>(
    response: http::Response<R>,
    done: Done,
    sent: Option<Counter>,
) -> http::Response<MetricsBody<R>> {
    match grpc_status(response.headers()) {
        Some(code) => {
            done.finish(code);
            response.map(|b| MetricsBody::plain(b, None))
        }
        None => response.map(|b| MetricsBody {
            inner: b,
            frames: sent.map(Frames::new),
            done: Some(done),
        }),
    }
}

fn grpc_status(headers: &http::HeaderMap) -> Option<Code> {
    headers
        .get("grpc-status")
        .map(|v| Code::from_bytes(v.as_bytes()))
}

/// Counts the RPC as handled once its status is known.
struct Done {
    metrics: Option<Arc<Metrics>>,
    method: &'static Method,
    started: Instant,
    span: Option<tracing::Span>,
}

impl Done {
    fn finish(self, code: Code) {
        if let Some(m) = &self.metrics {
            m.server
                .handled(self.method, code, self.started.elapsed().as_secs_f64());
        }
        if let Some(span) = &self.span {
            crate::telemetry::end_server_span(span, code);
        }
    }
}

/// Counts gRPC messages in a body by their 5-byte length prefixes.
struct Frames {
    counter: Counter,
    header: [u8; 5],
    header_len: usize,
    remaining: u64,
}

impl Frames {
    fn new(counter: Counter) -> Self {
        Self {
            counter,
            header: [0; 5],
            header_len: 0,
            remaining: 0,
        }
    }

    fn feed(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() {
            if self.remaining > 0 {
                let n = (self.remaining as usize).min(chunk.len());
                self.remaining -= n as u64;
                chunk = &chunk[n..];
                continue;
            }
            let n = (5 - self.header_len).min(chunk.len());
            self.header[self.header_len..self.header_len + n].copy_from_slice(&chunk[..n]);
            self.header_len += n;
            chunk = &chunk[n..];
            if self.header_len == 5 {
                self.counter.inc();
                let len = [
                    self.header[1],
                    self.header[2],
                    self.header[3],
                    self.header[4],
                ];
                self.remaining = u64::from(u32::from_be_bytes(len));
                self.header_len = 0;
            }
        }
    }
}

/// A body that counts its gRPC messages and, on a response, finishes the RPC.
pub struct MetricsBody<B> {
    inner: B,
    frames: Option<Frames>,
    done: Option<Done>,
}

impl<B> MetricsBody<B> {
    fn plain(inner: B, counter: Option<Counter>) -> Self {
        Self {
            inner,
            frames: counter.map(Frames::new),
            done: None,
        }
    }
}

impl<B> Drop for MetricsBody<B> {
    fn drop(&mut self) {
        // Dropped before the trailers: the client went away.
        if let Some(done) = self.done.take() {
            done.finish(Code::Cancelled);
        }
    }
}

impl<B> Body for MetricsBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = &mut *self;
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let (Some(data), Some(frames)) = (frame.data_ref(), this.frames.as_mut()) {
                    frames.feed(data.chunk());
                }
                if let Some(trailers) = frame.trailers_ref()
                    && let Some(done) = this.done.take()
                {
                    done.finish(grpc_status(trailers).unwrap_or(Code::Unknown));
                }
            }
            Some(Err(_)) => {
                if let Some(done) = this.done.take() {
                    done.finish(Code::Unknown);
                }
            }
            None => {
                if let Some(done) = this.done.take() {
                    done.finish(Code::Unknown);
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
