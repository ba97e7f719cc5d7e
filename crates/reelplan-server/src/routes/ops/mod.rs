//! Operations endpoints: liveness, readiness, metrics, the dashboard and the OpenAPI document.

mod dashboard;
mod openapi;
pub use openapi::document_json as openapi_json;
pub(in crate::routes) mod schemas;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::state::AppState;
use crate::telemetry;

/// `/healthz`, `/readyz`, `/metrics`, `/dashboard`, `/dashboard/stats.json`, `/openapi.json`.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard/stats.json", get(dashboard::stats))
        .route("/openapi.json", get(openapi::openapi_json))
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    summary = "Liveness: 200 while the process runs.",
    responses((status = 200, description = "`{\"status\": \"ok\"}`")))]
async fn healthz() -> impl IntoResponse {
    axum::Json(json!({"status": "ok"}))
}

/// 200 when the database (and Redis, when configured) answer; 503 naming what failed.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    summary = "Readiness: the database (and Redis, when configured) answer.",
    responses(
        (status = 200, description = "`{\"ready\": true, \"checks\": {...}}`"),
        (status = 503, description = "`{\"ready\": false, \"checks\": {...}}` naming what failed."),
    ))]
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = state.store.ping().await.err().map(|e| e.to_string());
    let redis = state.cache.ping().await.err();
    let status = if database.is_none() && redis.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let check = |failure: &Option<String>| match failure {
        None => json!({"ok": true}),
        Some(error) => json!({"ok": false, "error": error}),
    };
    let mut checks = json!({"database": check(&database)});
    if state.cache.has_redis() {
        checks["redis"] = check(&redis);
    }
    (status, axum::Json(json!({"ready": status == StatusCode::OK, "checks": checks})))
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    summary = "Prometheus text format (behind the operations token when one is set).",
    responses((status = 200, description = "Metrics.", body = String, content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    telemetry::record_gauges(&state);
    let body = telemetry::prometheus().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
