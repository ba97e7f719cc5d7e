//! Load limits in front of the handlers: load shedding (a permit or 503 at once; uploads take
//! their own slots), the per-request timeout (503 in the contract's shape), and the panic
//! catcher's answer (the contract's 500, the panic's message in the log only).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::extract::bearer_token;
use crate::state::AppState;
use crate::uploads::is_upload;

/// Probes must answer while the server is saturated: an orchestrator that sees `/healthz`
/// fail under load would restart a healthy, merely busy instance.
fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// Load shedding: take a permit or answer 503 now ([`crate::limits::Limits::try_admit`]).
pub(super) async fn shed(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_probe(req.uri().path()) {
        return next.run(req).await;
    }
    // Uploads hold a slot for their whole body: their own, never a permit of this limit.
    if is_upload(req.method(), req.uri().path()) {
        return upload(&state, req, next).await;
    }
    let Some(_permit) = state.limits.try_admit() else {
        metrics::counter!("reelplan_http_shed_total").increment(1);
        return ApiError::Busy("the server is busy; try again shortly").into_response();
    };
    // The permit is held until the response head is ready (body streaming is not counted).
    next.run(req).await
}

/// An upload takes the caller's slot and a global one, or answers 503 at once; its body is
/// handed on with the idle timeout and the minimum rate ([`crate::uploads`]).
async fn upload(state: &AppState, req: Request, next: Next) -> Response {
    let user = bearer_token(req.headers()).and_then(|token| state.auth.verify(token).ok());
    let permit = match state.uploads.admit(user) {
        Ok(permit) => permit,
        Err(error) => return error.into_response(),
    };
    let req = req.map(|body| state.uploads.paced(body));
    let response = next.run(req).await;
    drop(permit);
    response
}

/// The per-request deadline. Uploads stream up to their own (large) size limit; a fixed
/// deadline would cut off a slow but legitimate upload, so they are bounded by size, by their
/// idle timeout and by their minimum rate instead ([`crate::uploads`]).
pub(super) async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_upload(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let limit = state.limits.config.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            metrics::counter!("reelplan_http_timeouts_total").increment(1);
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
            ApiError::Busy("the server took too long to answer; try again shortly").into_response()
        }
    }
}

/// A panic is a bug: its message goes to the log, the client gets the contract's 500.
pub(super) fn panicked(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    metrics::counter!("reelplan_http_panics_total").increment(1);
    tracing::error!(panic = detail, "a handler panicked");
    ApiError::Internal.into_response()
}
