//! Response bodies in the contract's envelope.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;

use crate::error::ApiError;

/// Ready JSON bytes with a status.
pub struct JsonBytes(pub StatusCode, pub Bytes);

impl IntoResponse for JsonBytes {
    fn into_response(self) -> Response {
        (self.0, [(header::CONTENT_TYPE, "application/json")], self.1).into_response()
    }
}

/// A write's answer with the ETag a later `If-Match` sends for the resource it changed
/// (API.md 1.1, "Conditional requests").
pub struct Tagged {
    body: JsonBytes,
    tag: HeaderValue,
}

impl Tagged {
    /// 200 with `body`, the resource itself, so the ETag is its own.
    pub fn ok(body: Bytes) -> Tagged {
        let tag = crate::etag::etag_of(&body);
        Tagged { body: JsonBytes(StatusCode::OK, body), tag }
    }

    /// 200 with `{"result": value}` and the ETag of another resource (a member's change
    /// answers with its project detail's).
    pub fn with<T: Serialize>(value: &T, tag: HeaderValue) -> Result<Tagged, ApiError> {
        Ok(Tagged { body: JsonBytes(StatusCode::OK, envelope(value)?), tag })
    }
}

impl IntoResponse for Tagged {
    fn into_response(self) -> Response {
        let mut response = self.body.into_response();
        response.headers_mut().insert(header::ETAG, self.tag);
        response
    }
}

/// `{"result": value}`.
pub fn envelope<T: Serialize>(value: &T) -> Result<Bytes, ApiError> {
    #[derive(Serialize)]
    struct Envelope<'a, T> {
        result: &'a T,
    }
    to_bytes(&Envelope { result: value })
}

/// `{"result": [...], "next_cursor": ...}`.
pub fn list_envelope<T: Serialize>(
    items: &[T],
    next_cursor: Option<String>,
) -> Result<Bytes, ApiError> {
    #[derive(Serialize)]
    struct ListEnvelope<'a, T> {
        result: &'a [T],
        next_cursor: Option<String>,
    }
    to_bytes(&ListEnvelope { result: items, next_cursor })
}

/// `value` as JSON bytes; a failure is logged and answered as a hidden 500.
pub(crate) fn to_bytes<T: Serialize>(value: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|error| {
        tracing::error!(%error, "cannot serialize a response");
        ApiError::Internal
    })
}

/// 200 with `{"result": value}`.
pub fn ok<T: Serialize>(value: &T) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, envelope(value)?))
}

/// 201 with `{"result": value}`.
pub fn created<T: Serialize>(value: &T) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::CREATED, envelope(value)?))
}
