//! Conditional GETs (API.md 1.1, "Conditional requests"): every cacheable GET answers with a
//! weak `ETag`, `Cache-Control: private, no-cache` and `Vary: Authorization`, and a request
//! whose `If-None-Match` holds the current ETag gets `304 Not Modified` with no body.
//!
//! The ETag is a hash of the body this caller would get, computed from the body itself after
//! the handler produced it (from the cache on a warm read, so a 304 runs no SQL). So it
//! changes exactly when the body does, per caller where the body is per caller (`my_role`),
//! and on every instance alike: the body is coherent (DESIGN.md's invariants), so is its hash.
//! The hash is std's SipHash with its fixed keys: the same on every instance of a build (a
//! rebuild with another compiler may change it, which costs a 200 where a 304 would do, never
//! a 304 for a changed body).

use std::hash::Hasher;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// The routes whose GET is cacheable (API.md's list).
pub(crate) const CACHEABLE: [&str; 7] = [
    "/api/me",
    "/api/projects",
    "/api/projects/{id}",
    "/api/projects/{id}/feedback/comments",
    "/api/projects/{id}/feedback/messages",
    "/api/projects/{id}/versions",
    "/api/projects/{id}/versions/{version_id}",
];

/// Route layer: tags a cacheable GET's 200 with its ETag, and answers 304 when the request
/// already holds it.
pub(super) async fn etag(req: Request, next: Next) -> Response {
    let cacheable = req.method() == Method::GET
        && req.extensions().get::<MatchedPath>().is_some_and(|p| CACHEABLE.contains(&p.as_str()));
    if !cacheable {
        return next.run(req).await;
    }
    let held = req.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(req).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // These bodies are JSON the handler holds whole already (ready bytes from the cache).
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let tag = etag_of(&bytes);
    set_validators(&mut parts.headers, &tag);
    if held.as_ref().is_some_and(|held| matches(held, &tag)) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `W/"<16 hex digits>"` of a body.
pub(crate) fn etag_of(body: &[u8]) -> HeaderValue {
    #[expect(deprecated, reason = "SipHasher's fixed keys are what makes the tag stable")]
    let mut hasher = std::hash::SipHasher::new();
    hasher.write(body);
    HeaderValue::from_str(&format!("W/\"{:016x}\"", hasher.finish()))
        .expect("hex digits are a valid header")
}

/// The ETag and what a cache of the browser may do with it: keep the response per user
/// (private), but ask every time (no-cache), per token (Vary).
fn set_validators(headers: &mut HeaderMap, tag: &HeaderValue) {
    headers.insert(header::ETAG, tag.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    headers.append(header::VARY, HeaderValue::from_static("authorization"));
}

/// Whether an `If-None-Match` holds `tag`, by weak comparison (RFC 9110 13.1.2): `*`, or any
/// of its comma-separated tags with the same opaque part, `W/` or not.
pub(crate) fn matches(held: &HeaderValue, tag: &HeaderValue) -> bool {
    let (Ok(held), Ok(tag)) = (held.to_str(), tag.to_str()) else {
        return false;
    };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(tag);
    held.split(',').any(|candidate| candidate.trim() == "*" || opaque(candidate) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_compare_weakly_in_lists() {
        let tag = etag_of(b"{\"result\":1}");
        assert!(tag.to_str().unwrap().starts_with("W/\""));
        assert_eq!(etag_of(b"{\"result\":1}"), tag, "the same body, the same tag");
        assert_ne!(etag_of(b"{\"result\":2}"), tag);
        let strong = tag.to_str().unwrap().trim_start_matches("W/").to_owned();
        for held in [
            tag.to_str().unwrap().to_owned(),
            strong,
            format!("\"x\", {}", tag.to_str().unwrap()),
            "*".to_owned(),
        ] {
            assert!(matches(&HeaderValue::from_str(&held).unwrap(), &tag), "{held}");
        }
        for held in ["\"x\"", "W/\"y\", \"z\"", ""] {
            assert!(!matches(&HeaderValue::from_str(held).unwrap(), &tag), "{held}");
        }
    }
}
