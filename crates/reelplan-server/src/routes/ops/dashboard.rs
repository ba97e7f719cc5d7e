//! `/dashboard`: one self-contained HTML page (inline CSS and SVG-drawing script, no CDN),
//! and `/dashboard/stats.json`, the rolling figures it polls every two seconds.

use std::sync::atomic::Ordering;
use std::sync::LazyLock;
use std::time::SystemTime;

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse};
use serde::Deserialize;
use serde_json::json;

use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::telemetry;

/// The page, embedded in the binary.
const PAGE: &str = include_str!("dashboard.html");

/// The page's CSP: `'self'` plus exactly its own inline `<script>` and `<style>` blocks, by
/// SHA-256 hash. The page is static, so it is hashed once.
static PAGE_CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    HeaderValue::from_str(&crate::security::dashboard_csp(PAGE)).expect("a CSP is a valid header")
});

/// Points drawn across a chart by default: enough for a smooth line, few enough to be cheap.
const POINTS: u64 = 150;

/// `GET /dashboard`.
#[utoipa::path(operation_id = "dashboard", get, path = "/dashboard", tag = "operations",
    summary = "A live HTML page of the figures in `/metrics`.",
    responses((status = 200, description = "The page.", body = String, content_type = "text/html")))]
pub(super) async fn page() -> impl IntoResponse {
    (
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP.clone()),
        ],
        Html(PAGE),
    )
}

/// `?window=&step=` in seconds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatsQuery {
    window: Option<u64>,
    step: Option<u64>,
    /// The operations token, when the page was opened with one (checked by the ops guard).
    #[expect(dead_code, reason = "read by the ops guard from the raw query")]
    token: Option<String>,
}

/// `GET /dashboard/stats.json`: the live series, the pool and the process, now.
#[utoipa::path(operation_id = "dashboard_stats", get, path = "/dashboard/stats.json", tag = "operations",
    summary = "The dashboard's data: per-point series over the last minutes and per-route figures.",
    params(
        ("window" = Option<u64>, Query, description = "Seconds to cover, at most 600 (default 300)."),
        ("step" = Option<u64>, Query, description = "Seconds per point (default window / 150)."),
    ),
    responses((status = 200, description = "Series and totals.", body = Object)))]
pub(super) async fn stats(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> impl IntoResponse {
    let pool = state.store.pool_status();
    state.live.sample_pool(pool);
    let window = query.window.unwrap_or(300);
    let step = query.step.unwrap_or((window / POINTS).max(1));
    let uptime = SystemTime::now().duration_since(state.live.started()).unwrap_or_default();
    let (cache_bytes, cache_entries) = state.cache.l1_usage();
    let body = json!({
        "live": state.live.snapshot(window, step),
        "pool": {
            "size": pool.size,
            "idle": pool.idle,
            "in_use": pool.size.saturating_sub(pool.idle),
            "max": pool.max,
        },
        "process": {
            "resident_bytes": telemetry::resident_bytes(),
            "uptime_seconds": uptime.as_secs(),
        },
        "cache": {"l1_bytes": cache_bytes, "l1_entries": cache_entries, "redis": state.cache.has_redis()},
        "n_plus_one_warnings": state.n_plus_one_warnings.load(Ordering::Relaxed),
    });
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(body))
}
