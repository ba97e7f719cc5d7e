//! Response bodies in the contract's envelope.

use axum::http::{header, StatusCode};
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

/// Ready JSON bytes answered with their ETag: a write that answers with the resource a later
/// `If-Match` names (API.md 1.1, "Conditional requests").
pub struct Tagged(pub JsonBytes);

impl Tagged {
    /// 200 with `body` and its ETag.
    pub fn ok(body: Bytes) -> Tagged {
        Tagged(JsonBytes(StatusCode::OK, body))
    }
}

impl IntoResponse for Tagged {
    fn into_response(self) -> Response {
        let tag = crate::etag::etag_of(&self.0 .1);
        let mut response = self.0.into_response();
        response.headers_mut().insert(header::ETAG, tag);
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
