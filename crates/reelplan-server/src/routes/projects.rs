//! `/api/projects` and a project's own fields and phases.

use axum::extract::State;
use axum::http::StatusCode;
use reelplan_domain::{Phase, ProjectId};

use super::ops::schemas as api_doc;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::response::JsonBytes;
use crate::service::projects::{self, CreateProject, DatesInput, ListQuery, PatchProject};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/projects",
    tag = "projects",
    summary = "The caller's projects (owner or member), newest first.",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of projects.", body = api_doc::ProjectList),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, projects::list(&state, caller, query).await?))
}

#[utoipa::path(
    post,
    path = "/api/projects",
    tag = "projects",
    summary = "Creates a project; the caller becomes its owner.",
    request_body = CreateProject,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new project.", body = api_doc::ProjectDetailResult),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateProject>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::CREATED, projects::create(&state, caller, body.parse()?).await?))
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}",
    tag = "projects",
    summary = "A project's detail (members only).",
    params(("id" = i64, Path, description = "The project's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The project.", body = api_doc::ProjectDetailResult),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn detail(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, projects::detail(&state, caller, id).await?))
}

#[utoipa::path(
    patch,
    path = "/api/projects/{id}",
    tag = "projects",
    summary = "Changes a project's fields (manager+).",
    params(("id" = i64, Path, description = "The project's id.")), request_body = PatchProject,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed project.", body = api_doc::ProjectDetailResult),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn patch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(body): ApiJson<PatchProject>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, projects::patch(&state, caller, id, body.parse()).await?))
}

#[utoipa::path(
    delete,
    path = "/api/projects/{id}",
    tag = "projects",
    summary = "Deletes a project with everything in it (owner only).",
    params(("id" = i64, Path, description = "The project's id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
) -> Result<StatusCode, ApiError> {
    projects::delete(&state, caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    put,
    path = "/api/projects/{id}/phases/{phase}",
    tag = "projects",
    summary = "Sets one phase's dates (editor+).",
    params(("id" = i64, Path, description = "The project's id."), ("phase" = String, Path, description = "One of the eight phase names; any other is 404.")), request_body = DatesInput,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed project.", body = api_doc::ProjectDetailResult),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn put_phase(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, phase)): ApiPath<(ProjectId, Phase)>,
    ApiJson(body): ApiJson<DatesInput>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(
        StatusCode::OK,
        projects::put_phase(&state, caller, id, phase, body.parse()).await?,
    ))
}
