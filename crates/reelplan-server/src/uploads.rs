//! Limits of uploads (`POST .../files`, `POST .../versions`, `PUT .../feedback/video`), which
//! stream a large body and so are exempt from the request timeout and the general concurrency
//! limit: a stalled upload must not hold a permit ordinary requests need. Instead they have
//!
//! - their own concurrency limit, global and per user (`REELPLAN_MAX_CONCURRENT_UPLOADS`,
//!   `REELPLAN_MAX_UPLOADS_PER_USER`): one more is answered 503 `unavailable` at once;
//! - an idle timeout per body chunk (`REELPLAN_UPLOAD_IDLE_TIMEOUT_SECS`): a body that sends
//!   nothing for that long while the server waits for it is cut off;
//! - a minimum transfer rate (`REELPLAN_UPLOAD_MIN_BYTES_PER_SEC`), measured over the time the
//!   server spent waiting for the client, in windows as long as the idle timeout: a trickle
//!   of a byte now and then is cut off too. Time the server spends writing to the object store
//!   (not reading the body) is not held against the client.
//!
//! A cut-off body fails the upload like a client that went away: 400, nothing stored.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};

use reelplan_domain::UserId;

use crate::config::UploadLimitsConfig;
use crate::error::ApiError;

/// The live upload slots.
#[derive(Debug)]
pub struct UploadSlots {
    config: UploadLimitsConfig,
    global: Arc<Semaphore>,
    per_user: Arc<Mutex<HashMap<String, usize>>>,
}

/// A user's upload slot, given back on drop (the user's entry goes when its last slot does).
struct UserSlot {
    user: String,
    per_user: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut map = self.per_user.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.user);
            }
        }
    }
}

impl UploadSlots {
    /// Slots for this configuration (limits of 0 are taken as 1).
    pub fn new(config: UploadLimitsConfig) -> Self {
        UploadSlots {
            config,
            global: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            per_user: Arc::default(),
        }
    }

    /// What was configured.
    pub fn config(&self) -> &UploadLimitsConfig {
        &self.config
    }

    /// Uploads streaming right now.
    pub fn in_flight(&self) -> usize {
        self.config.max_concurrent.max(1) - self.global.available_permits()
    }

    fn user_slot(&self, user: String) -> Option<UserSlot> {
        let mut map = self.per_user.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(user.clone()).or_insert(0);
        if *n >= self.config.max_per_user.max(1) {
            return None;
        }
        *n += 1;
        Some(UserSlot { user, per_user: self.per_user.clone() })
    }
}

/// Whether this request is an upload: its body streams up to the upload limit.
pub fn is_upload(method: &axum::http::Method, path: &str) -> bool {
    use axum::http::Method;
    (method == Method::POST && (path.ends_with("/files") || path.ends_with("/versions")))
        || (method == Method::PUT && path.ends_with("/feedback/video"))
}

/// The slots one upload holds while its body streams: given back on drop.
pub struct UploadPermit {
    _global: tokio::sync::OwnedSemaphorePermit,
    _user: Option<UserSlot>,
}

impl UploadSlots {
    /// Takes the user's slot and a global one, or says which is full (a request without a
    /// valid token takes only a global slot: its handler answers 401 before reading any of
    /// the body).
    pub fn admit(&self, user: Option<UserId>) -> Result<UploadPermit, ApiError> {
        let user = match user {
            Some(user) => match self.user_slot(user.0.to_string()) {
                Some(slot) => Some(slot),
                None => {
                    return Err(busy("you have too many uploads in progress; try again shortly"))
                }
            },
            None => None,
        };
        let Ok(global) = self.global.clone().try_acquire_owned() else {
            return Err(busy("too many uploads are in progress; try again shortly"));
        };
        Ok(UploadPermit { _global: global, _user: user })
    }

    /// The body with this configuration's idle timeout and minimum rate.
    pub fn paced(&self, body: Body) -> Body {
        Body::new(PacedBody::new(body, self.config))
    }
}

fn busy(message: &'static str) -> ApiError {
    metrics::counter!("reelplan_uploads_shed_total").increment(1);
    ApiError::Busy(message)
}

/// Why a paced body was cut off.
#[derive(Debug, thiserror::Error)]
enum PaceError {
    #[error("the upload sent nothing for {0:?}")]
    Idle(Duration),
    #[error("the upload is slower than {0} bytes per second")]
    TooSlow(u64),
}

/// A request body with an idle timeout per chunk and a minimum rate (see the module docs).
struct PacedBody {
    inner: Body,
    config: UploadLimitsConfig,
    /// Armed while the body waits for the client.
    idle: Pin<Box<Sleep>>,
    /// When the current wait began (None: not waiting).
    waiting_since: Option<Instant>,
    /// Time spent waiting in the current rate window, and bytes received in it.
    waited: Duration,
    received: u64,
}

impl PacedBody {
    fn new(inner: Body, config: UploadLimitsConfig) -> Self {
        PacedBody {
            inner,
            config,
            idle: Box::pin(tokio::time::sleep(config.idle_timeout)),
            waiting_since: None,
            waited: Duration::ZERO,
            received: 0,
        }
    }

    fn cut(error: PaceError) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        metrics::counter!("reelplan_uploads_cut_off_total").increment(1);
        tracing::info!(%error, "cut off an upload");
        Poll::Ready(Some(Err(axum::Error::new(error))))
    }
}

impl HttpBody for PacedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let now = Instant::now();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some(since) = this.waiting_since.take() {
                    this.waited += now - since;
                }
                if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref)) {
                    this.received += data.map_or(0, |d| d.len() as u64);
                }
                let window = this.config.idle_timeout.max(Duration::from_millis(1));
                if frame.is_some() && this.waited >= window {
                    let min = this.config.min_bytes_per_sec;
                    let wanted = (min as f64 * this.waited.as_secs_f64()) as u64;
                    if this.received < wanted {
                        return Self::cut(PaceError::TooSlow(min));
                    }
                    (this.waited, this.received) = (Duration::ZERO, 0);
                }
                Poll::Ready(frame)
            }
            Poll::Pending => {
                if this.waiting_since.is_none() {
                    this.waiting_since = Some(now);
                    this.idle.as_mut().reset(now + this.config.idle_timeout);
                }
                match this.idle.as_mut().poll(cx) {
                    Poll::Ready(()) => Self::cut(PaceError::Idle(this.config.idle_timeout)),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
