//! Review versions: `/api/projects/{id}/versions[/{version_id}[/review]]`.
//!
//! An upload's body is the raw video, streamed to the object store like a file (the router's
//! 1 MiB body limit is lifted for it, the upload limit applies while streaming); its version
//! fields come in the query.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::Router;
use reelplan_domain::export::{ExportFormat, FrameRate};
use reelplan_domain::{
    Duration, ProjectId, ReviewNote, ReviewStatus, ValidationErrors, VersionId, VersionLabel,
};
use reelplan_store::{NewReview, NewVersion, VersionPatch};
use serde::Deserialize;

use super::checked;
use super::download::content_disposition;
use super::files::upload_of;
use super::ops::schemas::{Binary, ErrorBody, VersionList, VersionResult};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::response::{created, envelope, ok, JsonBytes, Tagged};
use crate::service::double_option;
use crate::service::export::{self, ExportRequest};
use crate::service::feedback::PageQuery;
use crate::service::versions;
use crate::state::AppState;

/// Version routes.
pub(super) fn routes() -> Router<AppState> {
    let upload = Router::new()
        .route("/api/projects/{id}/versions", post(add))
        .layer(DefaultBodyLimit::disable());
    Router::new()
        .route("/api/projects/{id}/versions", get(list))
        .route("/api/projects/{id}/versions/{version_id}", get(one).patch(patch).delete(delete))
        .route("/api/projects/{id}/versions/{version_id}/review", put(review))
        .route("/api/projects/{id}/versions/{version_id}/comments/export", get(export))
        .merge(upload)
}

/// `?name=&label=&fps=&duration=` of an upload.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct UploadQuery {
    /// The video's file name (default `video`).
    name: Option<String>,
    /// At most 100 characters.
    label: Option<String>,
    /// One of 23.976, 24, 25, 29.97, 30, 48, 50, 59.94, 60.
    fps: Option<f64>,
    /// Seconds, > 0.
    duration: Option<f64>,
}

impl UploadQuery {
    /// The version's fields, or every field's problem at once (the name travels with the
    /// upload, as a file's does).
    fn parse(&self) -> Result<NewVersion, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let label =
            errors.check("label", self.label.as_deref().map(VersionLabel::parse).transpose());
        let fps = errors.check("fps", self.fps.map(FrameRate::parse).transpose());
        let duration = errors.check("duration", self.duration.map(Duration::parse).transpose());
        errors.finish_with(|| {
            Some(NewVersion { label: label?.flatten(), fps: fps?, duration: duration? })
        })
    }
}

#[utoipa::path(
    operation_id = "upload_version",
    post,
    path = "/api/projects/{id}/versions",
    tag = "versions",
    summary = "Uploads a new version of the review video (editor+); it becomes the current one.",
    params(("id" = i64, Path, description = "The project's id."), UploadQuery),
    request_body(content = inline(Binary), content_type = "video/*", description = "The raw video bytes."),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new version.", body = VersionResult),
        (status = 400, description = "The Content-Type is not a video/* type.", body = ErrorBody),
        (status = 403, description = "The caller's role does not allow this.", body = ErrorBody),
        (status = 404, description = "No such project, or not a member.", body = ErrorBody),
        (status = 413, description = "Over the configured upload limit.", body = ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = ErrorBody),
    ),
)]
pub(super) async fn add(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonBytes, ApiError> {
    let version = query.parse();
    let upload = upload_of(query.name, &headers, body);
    created(&versions::add(&state, caller, id, version, upload).await?)
}

#[utoipa::path(
    operation_id = "list_versions",
    get,
    path = "/api/projects/{id}/versions",
    tag = "versions",
    summary = "The project's versions, highest number first (members).",
    params(("id" = i64, Path, description = "The project's id."), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of versions.", body = VersionList),
        (status = 404, description = "No such project, or not a member.", body = ErrorBody),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, versions::page_of(&state, caller, id, query).await?))
}

#[utoipa::path(
    operation_id = "get_version",
    get,
    path = "/api/projects/{id}/versions/{version_id}",
    tag = "versions",
    summary = "One version (members).",
    params(
        ("id" = i64, Path, description = "The project's id."),
        ("version_id" = i64, Path, description = "The version's id."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The version.", body = VersionResult),
        (status = 404, description = "No such project or version, or not a member.", body = ErrorBody),
    ),
)]
pub(super) async fn one(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, version)): ApiPath<(ProjectId, VersionId)>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, versions::get(&state, caller, id, version).await?))
}

/// `PATCH /api/projects/{id}/versions/{version_id}` body: any of the fields; null clears one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = patch_version)]
#[serde(deny_unknown_fields)]
pub struct PatchVersion {
    #[serde(default, deserialize_with = "double_option")]
    label: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    fps: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    duration: Option<Option<f64>>,
}

impl PatchVersion {
    /// The change, or every field's problem at once.
    pub fn parse(self) -> Result<VersionPatch, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        // Each: absent (`None`), or what the check made of the value or null (`None` inside
        // when it failed, which `finish_with` then reports).
        let label = self.label.map(|raw| {
            let parsed = raw.as_deref().map(VersionLabel::parse).transpose();
            errors.check("label", parsed.map(Option::flatten))
        });
        let fps = self.fps.map(|raw| errors.check("fps", raw.map(FrameRate::parse).transpose()));
        let duration =
            self.duration.map(|raw| errors.check("duration", raw.map(Duration::parse).transpose()));
        errors.finish_with(|| {
            Some(VersionPatch {
                label: checked(label)?,
                fps: checked(fps)?,
                duration: checked(duration)?,
            })
        })
    }
}

#[utoipa::path(
    operation_id = "patch_version",
    patch,
    path = "/api/projects/{id}/versions/{version_id}",
    tag = "versions",
    summary = "Changes a version's label, fps or duration (editor+).",
    params(
        ("id" = i64, Path, description = "The project's id."),
        ("version_id" = i64, Path, description = "The version's id."),
        ("If-Match" = Option<String>, Header, description = "The version's ETag: 412 and nothing written if it changed since."),
    ),
    request_body = PatchVersion,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The version.", body = VersionResult),
        (status = 403, description = "The caller's role does not allow this.", body = ErrorBody),
        (status = 404, description = "No such project or version, or not a member.", body = ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = ErrorBody),
    ),
)]
pub(super) async fn patch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, version)): ApiPath<(ProjectId, VersionId)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchVersion>,
) -> Result<Tagged, ApiError> {
    let if_match = headers.get(header::IF_MATCH).cloned();
    let patched = versions::patch(&state, caller, id, version, body.parse(), if_match).await?;
    // The same bytes as the version's GET, so the same ETag.
    Ok(Tagged::ok(envelope(&patched)?))
}

#[utoipa::path(
    operation_id = "delete_version",
    delete,
    path = "/api/projects/{id}/versions/{version_id}",
    tag = "versions",
    summary = "Deletes a version with its comments, reviews and video (manager+).",
    params(
        ("id" = i64, Path, description = "The project's id."),
        ("version_id" = i64, Path, description = "The version's id."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted; the highest remaining version is the current one."),
        (status = 403, description = "The caller's role does not allow this.", body = ErrorBody),
        (status = 404, description = "No such project or version, or not a member.", body = ErrorBody),
    ),
)]
pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, version)): ApiPath<(ProjectId, VersionId)>,
) -> Result<StatusCode, ApiError> {
    versions::delete(&state, caller, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/projects/{id}/versions/{version_id}/review` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = put_review)]
#[serde(deny_unknown_fields)]
pub struct PutReview {
    /// `approved`, `changes_requested` or `pending`.
    status: Option<String>,
    /// At most 2,000 characters.
    note: Option<String>,
}

impl PutReview {
    /// The review, or every field's problem at once.
    pub fn parse(self) -> Result<NewReview, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let status = errors.check(
            "status",
            match self.status.as_deref() {
                Some("approved") => Ok(ReviewStatus::Approved),
                Some("changes_requested") => Ok(ReviewStatus::ChangesRequested),
                Some("pending") => Ok(ReviewStatus::Pending),
                _ => Err("must be approved, changes_requested or pending"),
            },
        );
        let note = errors.check("note", self.note.as_deref().map(ReviewNote::parse).transpose());
        errors.finish_with(|| Some(NewReview { status: status?, note: note?.flatten() }))
    }
}

#[utoipa::path(
    operation_id = "put_review",
    put,
    path = "/api/projects/{id}/versions/{version_id}/review",
    tag = "versions",
    summary = "Records the caller's review of a version, replacing their earlier one (members).",
    params(
        ("id" = i64, Path, description = "The project's id."),
        ("version_id" = i64, Path, description = "The version's id."),
    ),
    request_body = PutReview,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The version with its approval.", body = VersionResult),
        (status = 404, description = "No such project or version, or not a member.", body = ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = ErrorBody),
    ),
)]
pub(super) async fn review(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, version)): ApiPath<(ProjectId, VersionId)>,
    ApiJson(body): ApiJson<PutReview>,
) -> Result<JsonBytes, ApiError> {
    ok(&versions::review(&state, caller, id, version, body.parse()).await?)
}

/// `?format=&fps=&start=&resolved=` of an export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ExportQuery {
    /// `csv`, `edl` or `fcpxml` (required).
    format: Option<String>,
    /// Overrides the version's fps; one of 23.976, 24, 25, 29.97, 30, 48, 50, 59.94, 60.
    fps: Option<f64>,
    /// The first frame's timecode, `HH:MM:SS:FF` (`;` before the frames for drop-frame);
    /// default `00:00:00:00`.
    start: Option<String>,
    /// Only resolved (`true`) or open (`false`) comments.
    resolved: Option<bool>,
}

impl ExportQuery {
    /// The request, or every field's problem at once.
    fn parse(self) -> Result<ExportRequest, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let format = errors.check(
            "format",
            self.format
                .as_deref()
                .ok_or("is required")
                .and_then(|f| ExportFormat::parse(f).map_err(|_| "must be csv, edl or fcpxml")),
        );
        let fps = errors.check("fps", self.fps.map(FrameRate::parse).transpose());
        errors.finish_with(|| {
            Some(ExportRequest {
                format: format?,
                fps: fps?,
                start: self.start,
                resolved: self.resolved,
            })
        })
    }
}

#[utoipa::path(
    operation_id = "export_comments",
    get,
    path = "/api/projects/{id}/versions/{version_id}/comments/export",
    tag = "versions",
    summary = "The version's comments as a file for editing software (members): CSV, CMX 3600 marker EDL or FCPXML 1.10.",
    params(
        ("id" = i64, Path, description = "The project's id."),
        ("version_id" = i64, Path, description = "The version's id."),
        ExportQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file, as an attachment: `text/csv` (csv), `text/plain` (edl) or `application/xml` (fcpxml).", body = inline(Binary), content_type = "application/octet-stream"),
        (status = 404, description = "No such project or version, or not a member.", body = ErrorBody),
        (status = 422, description = "No format, or a format that needs a frame rate without one (`fields` says which).", body = ErrorBody),
    ),
)]
pub(super) async fn export(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, version)): ApiPath<(ProjectId, VersionId)>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let file = export::export(&state, caller, id, version, query.parse()).await?;
    let chunks =
        futures::stream::iter(file.chunks.into_iter().map(Ok::<_, std::convert::Infallible>));
    let mut response = Response::new(Body::from_stream(chunks));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(file.content_type));
    let disposition = content_disposition(&file.file_name, file.content_type);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    Ok(response)
}
