//! Conditional GETs (API.md 1.1, "Conditional requests"): every cacheable GET answers with a
//! weak `ETag`, `Cache-Control: private, no-cache` and `Vary: Authorization`, and a request
//! whose `If-None-Match` holds the current ETag gets `304 Not Modified` with no body.
//!
//! The ETag is a hash of the body this caller would get, computed from the body itself after
//! the handler produced it (from the cache on a warm read, so a 304 runs no SQL). So it
//! changes exactly when the body does, per caller where the body is per caller (`my_role`),
//! and on every instance alike: the body is coherent (DESIGN.md's invariants), so is its hash.

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::etag::{etag_of, matches, page_etag};

/// The routes whose GET is cacheable (API.md's list).
pub(crate) const CACHEABLE: [&str; 8] = [
    "/api/me",
    "/api/projects",
    "/api/projects/{id}",
    "/api/projects/{id}/feedback/comments",
    "/api/projects/{id}/feedback/messages",
    "/api/projects/{id}/versions",
    "/api/projects/{id}/versions/{version_id}",
    "/api/projects/{id}/activity",
];

/// The comment list, whose pages are what a comment's `If-Match` holds (API.md).
const COMMENT_PAGES: &str = "/api/projects/{id}/feedback/comments";

/// Route layer: tags a cacheable GET's 200 with its ETag, and answers 304 when the request
/// already holds it.
pub(super) async fn etag(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    let cacheable = req.method() == Method::GET && route.is_some_and(|p| CACHEABLE.contains(&p));
    if !cacheable {
        return next.run(req).await;
    }
    // A comment page's tag names the page, so that a comment's `If-Match` can read it again.
    let page = (route == Some(COMMENT_PAGES)).then(|| req.uri().query().unwrap_or("").to_owned());
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
    let tag = match &page {
        Some(query) => page_etag(&bytes, query),
        None => etag_of(&bytes),
    };
    set_validators(&mut parts.headers, &tag);
    if held.as_ref().is_some_and(|held| matches(held, &tag)) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The ETag and what a cache of the browser may do with it: keep the response per user
/// (private), but ask every time (no-cache), per token (Vary).
fn set_validators(headers: &mut HeaderMap, tag: &HeaderValue) {
    headers.insert(header::ETAG, tag.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    headers.append(header::VARY, HeaderValue::from_static("authorization"));
}
