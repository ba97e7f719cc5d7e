//! Serving connections: hyper's connection drivers with the limits `axum::serve` lacks, so
//! that idle or slow clients cannot hold connections (and file descriptors) for ever.
//!
//! Each connection speaks HTTP/1.1 or, when it opens with HTTP/2's preface (cleartext, prior
//! knowledge: what a TLS-terminating proxy speaks upstream), HTTP/2. HTTP/2 carries many
//! requests and live-update streams on one connection, so a stream behind such a proxy costs
//! a few KiB instead of a connection's ~20 KiB of buffers. Its limits are fixed here
//! ([`H2_MAX_STREAMS`] and the others below); the request, upload and stream limits apply to
//! each of its requests as to any other.
//!
//! - a header-read timeout (`REELPLAN_HEADER_READ_TIMEOUT_SECS`): a request head must be
//!   complete within it, counted from the connection's accept or from the first byte of a
//!   later request on it (slowloris: half a request line, then nothing);
//! - a keep-alive idle timeout (`REELPLAN_KEEP_ALIVE_TIMEOUT_SECS`): between requests, and
//!   while a response body streams, a connection on which no byte moves for that long is
//!   closed (a download that stalls, or a client that stopped reading, included);
//! - a maximum number of open connections (`REELPLAN_MAX_CONNECTIONS`): one more is closed
//!   as soon as it is accepted, so the kernel's backlog never fills with clients left waiting.
//!
//! While a handler runs neither timeout applies: the request timeout bounds ordinary
//! requests, and uploads have their idle timeout and minimum rate ([`crate::uploads`]).
//! The timeouts are kept by one watchdog per connection reading the connection's last
//! activity (hyper's own header timer restarts on every idle wait, so it could not tell a
//! slow head from an idle keep-alive connection). On HTTP/2 the header timeout bounds the
//! time to the first request only: later bytes between requests are control frames (window
//! updates, pings) as often as a new request, and a request's frames are bounded by
//! [`H2_MAX_HEADER_LIST`]; the idle timeout applies as on HTTP/1.1.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::config::ConnectionLimits;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::Watcher;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// No request head has started arriving.
const NONE: u64 = u64::MAX;

/// Requests (live-update streams included) open at once on one HTTP/2 connection; a proxy
/// holding more opens another connection.
pub const H2_MAX_STREAMS: u32 = 200;

/// Largest request head on HTTP/2, decoded (HTTP/1.1's is bounded by hyper's read buffer).
pub const H2_MAX_HEADER_LIST: u32 = 16 * 1024;

/// Streams a client may open and reset before the server accepts them, before the
/// connection is closed (the "rapid reset" flood).
const H2_MAX_PENDING_RESETS: usize = 20;

/// Bytes a response may queue on HTTP/2 beyond what the peer's window lets through: a slow
/// reader's live-update stream backs up into its bounded queue ([`crate::events`]), not here.
const H2_MAX_SEND_BUFFER: usize = 64 * 1024;

/// Request body bytes in flight per HTTP/2 connection and per request before the server
/// reads them (what a client can make the server buffer).
const H2_RECEIVE_WINDOW: u32 = 256 * 1024;

/// What the watchdog of one connection reads: milliseconds since the connection opened.
struct Activity {
    opened: Instant,
    last_io: AtomicU64,
    head_since: AtomicU64,
    handlers: AtomicUsize,
    /// HTTP/2: bytes between requests start no header timeout.
    multiplexed: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        // A new connection is expected to send a request now: the header timeout runs.
        Activity {
            opened: Instant::now(),
            last_io: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
            handlers: AtomicUsize::new(0),
            multiplexed: AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn read(&self) {
        let now = self.now();
        self.last_io.store(now, Ordering::Relaxed);
        if self.handlers.load(Ordering::Acquire) == 0 && !self.multiplexed.load(Ordering::Relaxed) {
            let _ =
                self.head_since.compare_exchange(NONE, now, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    fn wrote(&self) {
        self.last_io.store(self.now(), Ordering::Relaxed);
    }

    /// A handler starts for a request of `version`; the returned guard ends it.
    fn handler(self: &Arc<Self>, version: hyper::Version) -> HandlerGuard {
        if version == hyper::Version::HTTP_2 {
            self.multiplexed.store(true, Ordering::Relaxed);
        }
        self.handlers.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(NONE, Ordering::Release);
        HandlerGuard(self.clone())
    }

    /// Resolves when a timeout of `limits` has run out on this connection.
    async fn expired(&self, limits: ConnectionLimits) {
        let header = limits.header_read_timeout.as_millis() as u64;
        let idle = limits.keep_alive_timeout.as_millis() as u64;
        loop {
            let now = self.now();
            let deadline = if self.handlers.load(Ordering::Acquire) > 0 {
                None
            } else {
                match self.head_since.load(Ordering::Acquire) {
                    NONE => Some(self.last_io.load(Ordering::Relaxed).saturating_add(idle)),
                    since => Some(since.saturating_add(header)),
                }
            };
            let wait = match deadline {
                Some(deadline) if deadline <= now => return,
                Some(deadline) => deadline - now,
                None => header.min(idle),
            };
            tokio::time::sleep(Duration::from_millis(wait.max(1))).await;
        }
    }
}

struct HandlerGuard(Arc<Activity>);

impl Drop for HandlerGuard {
    fn drop(&mut self) {
        let activity = &self.0;
        activity.head_since.store(NONE, Ordering::Release);
        activity.last_io.store(activity.now(), Ordering::Relaxed);
        activity.handlers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The TCP stream, telling its [`Activity`] about every byte moved.
struct Tracked {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, asks every
/// connection to close once its request in flight is answered, and resolves when all have.
/// Every request carries its peer address as `ConnectInfo<SocketAddr>`.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let max = limits.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    let builders = Arc::new(Builders::new());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or memory: wait a little rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics::counter!("reelplan_connections_refused_total").increment(1);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Tracked { stream, activity: activity.clone() });
        let service = {
            let (app, activity) = (app.clone(), activity.clone());
            hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let handler = activity.handler(req.version());
                let app = app.clone();
                async move {
                    let response = app.oneshot(req.map(Body::new)).await;
                    drop(handler);
                    response
                }
            })
        };
        let (watcher, builders) = (graceful.watcher(), builders.clone());
        tokio::spawn(async move {
            let _slot = slot;
            tokio::select! {
                served = serve_connection(io, service, &builders, watcher) => {
                    if let Err(error) = served {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                }
                () = activity.expired(limits) => {
                    metrics::counter!("reelplan_connections_timed_out_total").increment(1);
                    tracing::debug!(%peer, "closed an idle or slow connection");
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The HTTP/1.1 and HTTP/2 connection drivers, with the limits of the module documentation.
struct Builders {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
}

impl Builders {
    fn new() -> Self {
        let mut http1 = http1::Builder::new();
        // The watchdog keeps the header timeout (see the module documentation).
        http1.header_read_timeout(None).keep_alive(true);
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2
            .max_concurrent_streams(H2_MAX_STREAMS)
            .max_header_list_size(H2_MAX_HEADER_LIST)
            .max_pending_accept_reset_streams(H2_MAX_PENDING_RESETS)
            .max_send_buf_size(H2_MAX_SEND_BUFFER)
            .initial_connection_window_size(H2_RECEIVE_WINDOW)
            .initial_stream_window_size(H2_RECEIVE_WINDOW);
        Builders { http1, http2 }
    }
}

/// Serves one connection in the protocol it opens with. Each protocol's connection state is
/// boxed on its own, so an HTTP/1.1 connection holds none of HTTP/2's (a connection future
/// holding both would cost every HTTP/1.1 live-update stream several KiB).
async fn serve_connection<S>(
    io: TokioIo<Tracked>,
    service: S,
    builders: &Builders,
    watcher: Watcher,
) -> Result<(), hyper::Error>
where
    S: hyper::service::Service<
            hyper::Request<Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    if opens_with_http2_preface(&io.inner().stream).await {
        Box::pin(watcher.watch(builders.http2.serve_connection(io, service))).await
    } else {
        Box::pin(watcher.watch(builders.http1.serve_connection(io, service))).await
    }
}

/// Whether the connection's first bytes are HTTP/2's preface (`PRI * HTTP/2.0...`): no
/// HTTP/1.1 method starts with "PRI". Peeked, so the chosen driver reads them itself.
async fn opens_with_http2_preface(stream: &TcpStream) -> bool {
    const START: &[u8; 3] = b"PRI";
    let mut start = [0u8; 3];
    loop {
        let Ok(peeked) = stream.peek(&mut start).await else { return false };
        if peeked == 0 || start[..peeked] != START[..peeked] {
            return false;
        }
        if peeked == START.len() {
            return true;
        }
        // A first segment of one or two bytes: wait for the rest (the header timeout bounds
        // the wait; peeking again at once would spin on the same bytes).
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
