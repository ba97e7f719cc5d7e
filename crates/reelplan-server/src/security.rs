//! Security policy: the production secret check, security headers on every response, CORS
//! (off unless origins are listed), and the optional bearer token in front of `/metrics` and
//! `/dashboard`, compared in constant time.

use std::collections::HashSet;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::{Config, Secret};
use crate::error::ApiError;
use crate::state::AppState;
use crate::config::SecurityConfig;

/// Secrets that appear in docs, examples and tests: never acceptable in production.
const WELL_KNOWN_SECRETS: &[&str] = &[
    "test-secret-test-secret-test-secret!",
    "another-secret-another-secret-another",
    "change-me-change-me-change-me-change-me",
    "changeme",
    "secret",
    "reelplan",
];

/// Refuses to start in production mode with a missing, short (< 32 bytes), well-known or
/// trivially repetitive token signing secret. Outside production only the length is checked
/// (by the caller), and a missing secret is generated into the data folder.
pub fn check_secret_policy(config: &Config) -> anyhow::Result<()> {
    if !config.security.production {
        return Ok(());
    }
    let Some(Secret(secret)) = &config.auth.jwt_secret else {
        anyhow::bail!("REELPLAN_ENV=production needs REELPLAN_JWT_SECRET (at least 32 bytes)");
    };
    anyhow::ensure!(secret.len() >= 32, "REELPLAN_JWT_SECRET must be at least 32 bytes");
    let known = WELL_KNOWN_SECRETS.iter().any(|k| k.eq_ignore_ascii_case(secret));
    let distinct: HashSet<u8> = secret.bytes().collect();
    anyhow::ensure!(
        !known && distinct.len() >= 8,
        "REELPLAN_JWT_SECRET is a default or low-entropy value; generate one, e.g. `openssl rand -hex 32`"
    );
    Ok(())
}

/// Equality of two secrets in time that does not depend on where they differ (only on their
/// lengths, which a token's format gives away anyway).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The JSON API serves no active content: nothing may load, frame or submit from it.
const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Security headers on every response. `/dashboard` (an HTML page) gets a CSP that allows
/// `'self'` plus exactly its own inline `<script>` and `<style>` blocks, by SHA-256 hash.
pub async fn headers(req: Request, next: Next) -> Response {
    let dashboard = req.uri().path() == "/dashboard";
    let response = next.run(req).await;
    let mut response = if dashboard { with_dashboard_csp(response).await } else { response };
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

/// Hashes the page's inline blocks into its CSP. The page is static (it reflects nothing from
/// the request), so hashing what is served is hashing the page as written; its data comes
/// from `fetch` calls to `/metrics`, allowed by `connect-src 'self'`.
async fn with_dashboard_csp(response: Response) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 4 * 1024 * 1024).await else {
        return ApiError::Internal.into_response();
    };
    let html = String::from_utf8_lossy(&bytes);
    let csp = dashboard_csp(&html);
    if let Ok(value) = HeaderValue::from_str(&csp) {
        parts.headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The CSP of a self-contained HTML page: `'self'` and the hashes of its inline scripts and
/// styles; nothing else may load, frame it or be submitted to.
pub fn dashboard_csp(html: &str) -> String {
    let scripts = inline_hashes(html, "script");
    let styles = inline_hashes(html, "style");
    format!(
        "default-src 'none'; script-src 'self'{scripts}; style-src 'self'{styles}; \
         img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// ` 'sha256-...'` for each inline `<tag>...</tag>` block (those without a `src`).
fn inline_hashes(html: &str, tag: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let (open, close) = (format!("<{tag}"), format!("</{tag}"));
    let mut out = String::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find(&open).map(|i| i + from) {
        let Some(head_end) = lower[start..].find('>').map(|i| i + start + 1) else { break };
        let Some(end) = lower[head_end..].find(&close).map(|i| i + head_end) else { break };
        if !lower[start..head_end].contains(" src=") {
            let digest = Sha256::digest(&html.as_bytes()[head_end..end]);
            let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
            out.push_str(&format!(" 'sha256-{b64}'"));
        }
        from = end;
    }
    out
}

/// The CORS layer for the configured origins; None (CORS off) when there are none.
pub fn cors(config: &SecurityConfig) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = config
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim().trim_end_matches('/')).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    let expose = ["x-request-id", "x-query-count", "x-response-time", "x-cache", "server-timing"];
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers(expose.map(HeaderName::from_static))
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// `/metrics` and `/dashboard` behind `REELPLAN_OPS_TOKEN`, when one is set.
pub async fn ops_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let guarded = path == "/metrics" || path == "/dashboard" || path.starts_with("/dashboard/");
    let Some(Secret(expected)) = state.security.ops_token.as_ref().filter(|_| guarded) else {
        return next.run(req).await;
    };
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let query =
        req.uri().query().and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("token=")));
    let presented = bearer.or(query).unwrap_or("");
    if constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        next.run(req).await
    } else {
        ApiError::Unauthenticated("this endpoint needs the operations token").into_response()
    }
}
