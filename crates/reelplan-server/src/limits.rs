//! Load limits: a concurrency limit that sheds excess requests with 503 instead of queueing
//! them without bound, a per-request timeout that answers 503 in the contract's shape, a panic
//! catcher that turns a bug into the contract's bodiless-of-detail 500, and the shutdown grace.
//!
//! [`harden`] applies these and the security layers of [`crate::security`] to a router, in one
//! place, so the integration tests can wrap a tiny router (with a route that panics or sleeps)
//! in exactly the stack the real app runs.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::ApiError;
use crate::state::AppState;
use crate::uploads::is_upload;
use crate::config::LimitsConfig;

/// The live limits: the configuration and the permits of the concurrency limit.
#[derive(Debug)]
pub struct Limits {
    /// What was configured.
    pub config: LimitsConfig,
    permits: Arc<Semaphore>,
}

impl Limits {
    /// Limits from their configuration (a limit of 0 is taken as 1: a server must serve).
    pub fn new(config: LimitsConfig) -> Self {
        let permits = Arc::new(Semaphore::new(config.max_concurrent_requests.max(1)));
        Limits { config, permits }
    }

    /// Requests in flight right now (for the dashboard and tests).
    pub fn in_flight(&self) -> usize {
        self.config.max_concurrent_requests.max(1) - self.permits.available_permits()
    }
}

/// Wraps `router` in the hardening stack. Outermost first, as a request meets them:
/// security headers, CORS (when configured), panic catcher, the ops-token guard, load
/// shedding, the request timeout. The caller adds request accounting (`observe`) outside, so
/// shed, timed-out and panicked requests are still counted and carry a request id.
pub fn harden(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let router = router
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(middleware::from_fn_with_state(state.clone(), shed))
        .layer(middleware::from_fn_with_state(state.clone(), crate::security::ops_guard))
        .layer(CatchPanicLayer::custom(panicked));
    let router = match crate::security::cors(&state.security) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router.layer(middleware::from_fn(crate::security::headers))
}

/// A 503 in the contract's shape, with a hint to retry shortly.
pub(crate) fn unavailable(message: &str) -> Response {
    let body = serde_json::json!({"message": message, "code": "unavailable"});
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    response.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
    response
}

/// Probes must answer while the server is saturated: an orchestrator that sees `/healthz`
/// fail under load would restart a healthy, merely busy instance.
fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// Load shedding: take a permit or answer 503 now. Never waits: a queue in front of a
/// saturated server only turns overload into latency and then into timeouts.
async fn shed(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_probe(req.uri().path()) {
        return next.run(req).await;
    }
    // Uploads hold a slot for their whole body: their own, never a permit of this limit.
    if is_upload(req.method(), req.uri().path()) {
        return crate::uploads::guard(State(state), req, next).await;
    }
    let Ok(_permit) = state.limits.permits.clone().try_acquire_owned() else {
        metrics::counter!("reelplan_http_shed_total").increment(1);
        return unavailable("the server is busy; try again shortly");
    };
    // The permit is held until the response head is ready (body streaming is not counted).
    next.run(req).await
}

/// The per-request deadline. Uploads stream up to their own (large) size limit; a fixed
/// deadline would cut off a slow but legitimate upload, so they are bounded by size, by their
/// idle timeout and by their minimum rate instead ([`crate::uploads`]).
async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_upload(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let limit = state.limits.config.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            metrics::counter!("reelplan_http_timeouts_total").increment(1);
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
            unavailable("the server took too long to answer; try again shortly")
        }
    }
}

/// A panic is a bug: its message goes to the log, the client gets the contract's 500.
fn panicked(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    metrics::counter!("reelplan_http_panics_total").increment(1);
    tracing::error!(panic = detail, "a handler panicked");
    ApiError::Internal.into_response()
}
