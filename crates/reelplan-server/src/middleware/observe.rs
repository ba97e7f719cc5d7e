//! Per-request accounting: statement count, timings, cache outcome, request id, metrics,
//! the request log line and the N+1 warning.

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use reelplan_cache::Outcome;
use reelplan_store::stats::{RequestStats, StatementLog};
use tracing::Instrument;

use crate::request_record::{Record, RequestRecord};
use crate::state::AppState;

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

/// More statements than this in one request earns an N+1 warning.
pub const MAX_STATEMENTS: u32 = 10;
/// One statement text repeated more than this in one request earns an N+1 warning.
pub const MAX_REPEATS: u32 = 3;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Outer layer: opens the request's statement log and its span (`request`, with the request
/// id, method, route and, once authenticated, the user: every log line of the request names
/// it), then writes the headers, metrics and the request's log line.
pub(super) async fn observe(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id =
        req.headers().get(&REQUEST_ID).filter(|v| v.len() <= 128).cloned().unwrap_or_else(|| {
            HeaderValue::from_str(&format!("{:016x}", rand::random::<u64>()))
                .expect("hex is a valid header")
        });
    let method = method_label(req.method());
    let stats = RequestStats::default();
    let record = RequestRecord::default();
    req.extensions_mut().insert(record.clone());
    let span = tracing::info_span!(
        "request",
        id = %request_id.to_str().unwrap_or(""),
        method = %method,
        route = tracing::field::Empty,
        user = tracing::field::Empty,
    );
    let mut response = record.scope(stats.scope(next.run(req))).instrument(span.clone()).await;
    let log = stats.snapshot();
    let Record { route, cache: outcome } = record.snapshot();
    let route = route.unwrap_or_else(|| UNMATCHED.to_owned());
    let outcome = outcome.map(Outcome::as_str);
    let elapsed = started.elapsed();

    let headers = response.headers_mut();
    let db_ms = log.db_time.as_secs_f64() * 1000.0;
    let app_ms = (elapsed.as_secs_f64() * 1000.0 - db_ms).max(0.0);
    let cache = outcome.unwrap_or(Outcome::Bypass.as_str());
    let timing = format!(
        "db;dur={db_ms:.3};desc=\"{} queries\", cache;desc=\"{cache}\", app;dur={app_ms:.3}",
        log.count
    );
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("x-query-count", log.count.to_string());
    set("x-response-time", format!("{:.3}s", elapsed.as_secs_f64()));
    set("server-timing", timing);
    if let Some(outcome) = outcome {
        set("x-cache", outcome.to_ascii_uppercase());
    }
    headers.insert(REQUEST_ID.clone(), request_id.clone());

    let status = response.status().as_u16();
    let labels = [
        ("route", route.clone()),
        ("method", method.to_owned()),
        ("status", format!("{}xx", status / 100)),
    ];
    metrics::counter!("reelplan_http_requests_total", &labels).increment(1);
    metrics::histogram!("reelplan_http_request_duration_seconds", &labels)
        .record(elapsed.as_secs_f64());
    metrics::histogram!("reelplan_http_request_statements", "route" => route.clone())
        .record(f64::from(log.count));
    state.live.record(crate::live_stats::Observation {
        method,
        route: &route,
        status,
        elapsed,
        statements: log.count,
        cache: outcome,
    });
    state.live.sample_pool(state.store.pool_status());

    span.in_scope(|| {
        warn_on_n_plus_one(&state, &log, &route);
        tracing::info!(
            target: "reelplan::request",
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            statements = log.count,
            cache,
            "request"
        );
    });
    response
}

/// The method as a metric label: one of a fixed set, so that requests with made-up methods
/// (any token is a valid HTTP method) cannot grow the label space, the Prometheus output and
/// the dashboard's per-route table without bound.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Inner layer (route layer): names the matched route template in the request's log.
pub(super) async fn name_route(req: Request, next: Next) -> Response {
    if let (Some(path), Some(record)) =
        (req.extensions().get::<MatchedPath>(), req.extensions().get::<RequestRecord>())
    {
        record.set_route(path.as_str());
        tracing::Span::current().record("route", tracing::field::display(path.as_str()));
    }
    next.run(req).await
}

fn warn_on_n_plus_one(state: &AppState, log: &StatementLog, route: &str) {
    let repeated = log.most_repeated().filter(|(_, n)| *n > MAX_REPEATS);
    if log.count <= MAX_STATEMENTS && repeated.is_none() {
        return;
    }
    state.n_plus_one_warnings.fetch_add(1, Ordering::Relaxed);
    metrics::counter!("reelplan_n_plus_one_warnings_total", "route" => route.to_owned())
        .increment(1);
    let (sql, times) = repeated.or(log.most_repeated()).unwrap_or(("", 0));
    tracing::warn!(
        target: "reelplan::n_plus_one",
        route,
        statements = log.count,
        repeated_statement = %sql.split_whitespace().collect::<Vec<_>>().join(" "),
        times,
        "request ran too many statements (N+1 suspect)"
    );
}
