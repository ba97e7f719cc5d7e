//! Serving connections: hyper's HTTP/1.1 connection driver with the limits `axum::serve`
//! lacks, so that idle or slow clients cannot hold connections (and file descriptors) for
//! ever:
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
//! slow head from an idle keep-alive connection).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::config::ConnectionLimits;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// No request head has started arriving.
const NONE: u64 = u64::MAX;

/// What the watchdog of one connection reads: milliseconds since the connection opened.
struct Activity {
    opened: Instant,
    last_io: AtomicU64,
    head_since: AtomicU64,
    handlers: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        // A new connection is expected to send a request now: the header timeout runs.
        Activity {
            opened: Instant::now(),
            last_io: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
            handlers: AtomicUsize::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn read(&self) {
        let now = self.now();
        self.last_io.store(now, Ordering::Relaxed);
        if self.handlers.load(Ordering::Acquire) == 0 {
            let _ =
                self.head_since.compare_exchange(NONE, now, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    fn wrote(&self) {
        self.last_io.store(self.now(), Ordering::Relaxed);
    }

    /// A handler starts; the returned guard ends it.
    fn handler(self: &Arc<Self>) -> HandlerGuard {
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
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The watchdog keeps the header timeout (see the module documentation).
    builder.header_read_timeout(None).keep_alive(true);
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
                let handler = activity.handler();
                let app = app.clone();
                async move {
                    let response = app.oneshot(req.map(Body::new)).await;
                    drop(handler);
                    response
                }
            })
        };
        let connection = graceful.watch(builder.serve_connection(io, service));
        tokio::spawn(async move {
            let _slot = slot;
            tokio::select! {
                served = connection => {
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
