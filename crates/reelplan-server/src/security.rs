//! Security policy: the production secret check, constant-time comparison of secrets, the
//! CORS layer (off unless origins are listed) and the dashboard's CSP. The middleware that
//! applies them is [`crate::middleware`]'s.

use std::collections::HashSet;

use axum::http::{header, HeaderName, HeaderValue, Method};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::{Config, Secret, SecurityConfig};

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
    // `Content-Disposition` carries the file name of an export the front end saves; `ETag` is
    // what its conditional requests send back.
    let expose = [
        "etag",
        "x-request-id",
        "x-query-count",
        "x-response-time",
        "x-cache",
        "server-timing",
        "content-disposition",
    ];
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                HeaderName::from_static("last-event-id"),
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers(expose.map(HeaderName::from_static))
            .max_age(std::time::Duration::from_secs(600)),
    )
}
