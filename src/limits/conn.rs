//! The accept loop of the gRPC listeners, plaintext and TLS alike: a bound
//! on open connections, a deadline for the TLS handshake and the HTTP/2
//! preface (h2 waits for a preface forever), an idle timeout, and a hard
//! close once a connection outlives its age and grace.
//!
//! tonic sends the `GOAWAY` at `max_connection_age` itself; its
//! `max_connection_age_grace` would replace that `GOAWAY` by a plain close,
//! so the grace is enforced here, on the connection's reads.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, TcpConnectInfo, TlsConnectInfo};

use super::{LimitsMetrics, ListenerLimits};

/// The client's first bytes on an HTTP/2 connection (RFC 9113, 3.4).
const PREFACE_LEN: usize = 24;

/// The per-connection deadlines, shared by every connection of a listener.
#[derive(Debug)]
struct Timing {
    /// Counts connections closed for a late handshake or preface.
    handshake_timeouts: prometheus_client::metrics::counter::Counter,
    handshake: Duration,
    idle: Duration,
    hard_close: Duration,
}

/// Accepts connections on `listener` while fewer than
/// `limits.max_connections` are open (others are closed at once), runs
/// `upgrade` (the TLS handshake, or nothing) within the handshake timeout,
/// and hands over guarded connections. Stops when the stream is dropped.
pub fn incoming<IO, F, Fut>(
    listener: TcpListener,
    limits: &ListenerLimits,
    metrics: LimitsMetrics,
    upgrade: F,
) -> ReceiverStream<io::Result<Guarded<IO>>>
where
    IO: Send + 'static,
    F: Fn(TcpStream, SocketAddr) -> Fut + Send + 'static,
    Fut: Future<Output = Option<IO>> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let permits = Arc::new(Semaphore::new(
        limits.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    let timing = Arc::new(Timing {
        handshake_timeouts: metrics.handshake_timeouts.clone(),
        handshake: limits.handshake_timeout,
        idle: limits.idle_timeout,
        hard_close: limits
            .max_connection_age
            .saturating_add(limits.max_connection_age_grace),
    });
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = tx.closed() => return,
            };
            let (tcp, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors, most likely: give them time to free.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                metrics.refused_connections.inc();
                tracing::debug!(%peer, "connection refused: too many connections");
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let started = Instant::now();
            let handshake = upgrade(tcp, peer);
            let (tx, timing) = (tx.clone(), timing.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(timing.handshake, handshake).await {
                    Ok(Some(io)) => {
                        let guarded = Guarded::new(io, permit, started, timing);
                        let _ = tx.send(Ok(guarded)).await;
                    }
                    Ok(None) => {}
                    Err(_) => {
                        timing.handshake_timeouts.inc();
                        tracing::debug!(%peer, "TLS handshake timed out");
                    }
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

/// Whether a connection has RPCs in flight, and since when it has none.
#[derive(Debug)]
pub struct Activity {
    base: Instant,
    active: AtomicUsize,
    /// Milliseconds after `base` when `active` last fell to zero.
    idle_since_ms: AtomicU64,
}

impl Activity {
    fn new(base: Instant) -> Self {
        Self {
            base,
            active: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
        }
    }

    /// An RPC started on the connection.
    pub(super) fn begin(&self) {
        self.active.fetch_add(1, Ordering::Relaxed);
    }

    /// An RPC ended (answered or cancelled).
    pub(super) fn end(&self) {
        if self.active.fetch_sub(1, Ordering::Relaxed) == 1 {
            let ms = self.base.elapsed().as_millis() as u64;
            self.idle_since_ms.store(ms, Ordering::Relaxed);
        }
    }

    /// When the connection becomes idle for `idle`, if it has nothing in flight.
    fn idle_deadline(&self, idle: Duration) -> Option<Instant> {
        if self.active.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let since = Duration::from_millis(self.idle_since_ms.load(Ordering::Relaxed));
        Some(self.base + since + idle)
    }
}

/// What tonic puts in each request's extensions for a guarded connection:
/// the inner connection's info and the connection's activity.
#[derive(Debug, Clone)]
pub struct ConnInfo<T> {
    /// The TCP (or TLS) connection info.
    pub inner: T,
    activity: Arc<Activity>,
}

/// The activity of the connection a request came on.
pub(super) fn activity(extensions: &http::Extensions) -> Option<Arc<Activity>> {
    let plain = extensions.get::<ConnInfo<TcpConnectInfo>>();
    let tls = || extensions.get::<ConnInfo<TlsConnectInfo<TcpConnectInfo>>>();
    plain
        .map(|c| c.activity.clone())
        .or_else(|| tls().map(|c| c.activity.clone()))
}

/// Keeps the connection of a request busy (not idle) until dropped, for a
/// surface served outside the [`LimitsLayer`](super::LimitsLayer): the HTTP
/// forward-auth listener (`authz::http`).
pub struct Busy(Arc<Activity>);

impl Busy {
    /// Marks the request's connection busy; `None` off a guarded connection.
    pub fn start(extensions: &http::Extensions) -> Option<Self> {
        let activity = activity(extensions)?;
        activity.begin();
        Some(Self(activity))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// A connection holding one of the listener's permits, closed (its reads
/// fail) when it misses the preface deadline, stays idle too long, or
/// outlives its age and grace.
pub struct Guarded<IO> {
    io: IO,
    activity: Arc<Activity>,
    timing: Arc<Timing>,
    preface_left: usize,
    timer: Pin<Box<Sleep>>,
    _permit: OwnedSemaphorePermit,
}

impl<IO> Guarded<IO> {
    fn new(io: IO, permit: OwnedSemaphorePermit, started: Instant, timing: Arc<Timing>) -> Self {
        let first = timing.handshake.min(timing.idle).min(timing.hard_close);
        let timer = Box::pin(tokio::time::sleep_until(started + first));
        Self {
            io,
            activity: Arc::new(Activity::new(started)),
            timing,
            preface_left: PREFACE_LEN,
            timer,
            _permit: permit,
        }
    }

    /// The reason to close the connection now, if any; otherwise arms the
    /// timer for the next deadline.
    fn expired(&mut self, cx: &mut Context<'_>) -> Option<&'static str> {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return None;
            }
            let now = Instant::now();
            let base = self.activity.base;
            let handshake = (self.preface_left > 0).then_some(base + self.timing.handshake);
            if handshake.is_some_and(|at| at <= now) {
                self.timing.handshake_timeouts.inc();
                return Some("no HTTP/2 preface within the handshake timeout");
            }
            let hard_close = base + self.timing.hard_close;
            if now >= hard_close {
                return Some("connection outlived its maximum age and grace");
            }
            let idle = self.activity.idle_deadline(self.timing.idle);
            if idle.is_some_and(|at| at <= now) {
                return Some("connection idle");
            }
            let mut next = idle.unwrap_or(now + self.timing.idle).min(hard_close);
            if let Some(at) = handshake {
                next = next.min(at);
            }
            self.timer.as_mut().reset(next);
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Guarded<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(why) = self.expired(cx) {
            tracing::debug!(reason = why, "closing connection");
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, why)));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut self.io).poll_read(cx, buf);
        if self.preface_left > 0 {
            let got = buf.filled().len() - before;
            self.preface_left = self.preface_left.saturating_sub(got);
        }
        read
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Guarded<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl<IO: Connected> Connected for Guarded<IO> {
    type ConnectInfo = ConnInfo<IO::ConnectInfo>;

    fn connect_info(&self) -> Self::ConnectInfo {
        ConnInfo {
            inner: self.io.connect_info(),
            activity: self.activity.clone(),
        }
    }
}
