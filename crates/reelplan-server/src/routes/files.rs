//! Project files and the feedback video: `POST /api/projects/{id}/files`,
//! `GET|DELETE /api/projects/{id}/files/{file_id}`, `PUT /api/projects/{id}/feedback/video`.
//!
//! Bodies are raw bytes streamed to the object store, so these routes lift the router's 1 MiB
//! `DefaultBodyLimit` (a route-level layer wins over the global one) and the service enforces
//! the upload limit itself while streaming. Downloads stream too, with `Range` support.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use reelplan_domain::{FileId, ProjectId};
use serde::Deserialize;

use super::download::{byte_range, content_disposition};
use super::ops::schemas::{Binary, ErrorBody, FileResult};

use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, Caller};
use crate::response::{created, ok, JsonBytes};
use crate::service::files::{self, Upload};
use crate::service::versions;
use crate::state::AppState;

/// File and video routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/projects/{id}/files", post(upload))
        .route("/api/projects/{id}/files/{file_id}", get(download).delete(delete))
        .route("/api/projects/{id}/feedback/video", put(put_video))
        .layer(DefaultBodyLimit::disable())
}

/// `?name=` of an upload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NameQuery {
    name: Option<String>,
}

/// The upload's header fields and body, as the service takes them.
pub(super) fn upload_of(
    name: Option<String>,
    headers: &HeaderMap,
    body: Body,
) -> Upload<impl futures::Stream<Item = Result<bytes::Bytes, axum::Error>> + Send> {
    let text = |name| {
        headers.get(name).map(|v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    Upload {
        name,
        content_type: text(header::CONTENT_TYPE),
        content_length: text(header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok()),
        body: body.into_data_stream(),
    }
}

#[utoipa::path(
    operation_id = "upload_file",
    post,
    path = "/api/projects/{id}/files",
    tag = "files",
    summary = "Uploads a file (editor+), streamed to the object store.",
    params(
        ("id" = i64, Path, description = "The project's id."),
        ("name" = String, Query, description = "The file's name."),
    ),
    request_body(content = inline(Binary), content_type = "*/*", description = "The raw bytes; `Content-Type` is stored with them."),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The stored file.", body = FileResult),
        (status = 403, description = "The caller's role does not allow this.", body = ErrorBody),
        (status = 404, description = "No such project, or not a member.", body = ErrorBody),
        (status = 413, description = "Over the configured upload limit (default 2 GiB).", body = ErrorBody),
    ),
)]
pub(super) async fn upload(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiQuery(query): ApiQuery<NameQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonBytes, ApiError> {
    created(&files::add(&state, caller, id, upload_of(query.name, &headers, body)).await?)
}

#[utoipa::path(
    put,
    path = "/api/projects/{id}/feedback/video",
    tag = "feedback",
    summary = "Replaces the project's review video (editor+).",
    params(("id" = i64, Path, description = "The project's id.")),
    request_body(content = inline(Binary), content_type = "video/*", description = "The raw video bytes."),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stored video.", body = FileResult),
        (status = 400, description = "The Content-Type is not a video/* type.", body = ErrorBody),
        (status = 403, description = "The caller's role does not allow this.", body = ErrorBody),
        (status = 404, description = "No such project, or not a member.", body = ErrorBody),
        (status = 413, description = "Over the configured upload limit.", body = ErrorBody),
    ),
)]
pub(super) async fn put_video(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiQuery(query): ApiQuery<NameQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonBytes, ApiError> {
    ok(&versions::put_video(&state, caller, id, upload_of(query.name, &headers, body)).await?)
}

#[utoipa::path(
    operation_id = "get_file",
    get,
    path = "/api/projects/{id}/files/{file_id}",
    tag = "files",
    summary = "Downloads a file's bytes (members only), with its stored content type.",
    params(
        ("id" = i64, Path, description = "The project's id."),
        ("file_id" = i64, Path, description = "The file's id."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The bytes.", body = inline(Binary), content_type = "application/octet-stream"),
        (status = 404, description = "No such project or file, or not a member.", body = ErrorBody),
    ),
)]
pub(super) async fn download(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, file)): ApiPath<(ProjectId, FileId)>,
    headers: HeaderMap,
) -> Response {
    let range = byte_range(headers.get(header::RANGE).and_then(|v| v.to_str().ok()));
    let served = match files::download(&state, caller, id, file, range).await {
        Ok(served) => served,
        Err(error) => return error.into_response(),
    };
    let meta = &served.meta;
    let range = served.download.range.clone();
    let status = if served.partial { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let mut response = Response::new(Body::from_stream(served.download.stream));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&meta.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(range.end - range.start));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if served.partial {
        let value = format!("bytes {}-{}/{}", range.start, range.end - 1, meta.size);
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(header::CONTENT_RANGE, value);
        }
    }
    let disposition = content_disposition(&meta.name, &meta.content_type);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    // A stored content type is the uploader's word: never sniffed, never run as a page.
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    response
}

#[utoipa::path(
    operation_id = "delete_file",
    delete,
    path = "/api/projects/{id}/files/{file_id}",
    tag = "files",
    summary = "Deletes a file (editor+).",
    params(
        ("id" = i64, Path, description = "The project's id."),
        ("file_id" = i64, Path, description = "The file's id."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "The caller's role does not allow this.", body = ErrorBody),
        (status = 404, description = "No such project or file, or not a member.", body = ErrorBody),
    ),
)]
pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, file)): ApiPath<(ProjectId, FileId)>,
) -> Result<StatusCode, ApiError> {
    files::delete(&state, caller, id, file).await?;
    Ok(StatusCode::NO_CONTENT)
}
