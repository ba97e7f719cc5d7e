//! Security headers on every response, and the operations token in front of `/metrics` and
//! `/dashboard`.

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::Secret;
use crate::error::ApiError;
use crate::extract::bearer_token;
use crate::security::constant_time_eq;
use crate::state::AppState;

/// The JSON API serves no active content: nothing may load, frame or submit from it.
const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Security headers on every response, and the API's CSP on every response that brought no
/// CSP of its own (the dashboard page does).
pub(super) async fn headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(API_CSP));
    }
    response
}

/// `/metrics` and `/dashboard` behind `REELPLAN_OPS_TOKEN`, when one is set.
pub(super) async fn ops_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let guarded = path == "/metrics" || path == "/dashboard" || path.starts_with("/dashboard/");
    let Some(Secret(expected)) = state.security.ops_token.as_ref().filter(|_| guarded) else {
        return next.run(req).await;
    };
    let bearer = bearer_token(req.headers());
    let query =
        req.uri().query().and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("token=")));
    let presented = bearer.or(query).unwrap_or("");
    if constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        next.run(req).await
    } else {
        ApiError::Unauthenticated("this endpoint needs the operations token").into_response()
    }
}
