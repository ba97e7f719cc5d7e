//! `/api/projects` and a project's own fields and phases.

use axum::extract::State;
use axum::http::StatusCode;
use reelplan_domain::ProjectId;

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::response::JsonBytes;
use crate::service::projects::{self, CreateProject, DatesInput, ListQuery, PatchProject};
use crate::state::AppState;

pub(super) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, projects::list(&state, caller, query).await?))
}

pub(super) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateProject>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::CREATED, projects::create(&state, caller, body).await?))
}

pub(super) async fn detail(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, projects::detail(&state, caller, id).await?))
}

pub(super) async fn patch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(body): ApiJson<PatchProject>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, projects::patch(&state, caller, id, body).await?))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
) -> Result<StatusCode, ApiError> {
    projects::delete(&state, caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn put_phase(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, phase)): ApiPath<(ProjectId, String)>,
    ApiJson(body): ApiJson<DatesInput>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(StatusCode::OK, projects::put_phase(&state, caller, id, &phase, body).await?))
}
