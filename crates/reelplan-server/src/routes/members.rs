//! `/api/projects/{id}/members`.

use axum::extract::State;
use axum::http::StatusCode;
use reelplan_domain::{MemberId, ProjectId};

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::response::{created, ok, JsonBytes};
use crate::service::members::{self, AddMember, PatchMember};
use crate::state::AppState;

pub(super) async fn add(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(body): ApiJson<AddMember>,
) -> Result<JsonBytes, ApiError> {
    created(&members::add(&state, caller, id, body).await?)
}

pub(super) async fn patch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, member)): ApiPath<(ProjectId, MemberId)>,
    ApiJson(body): ApiJson<PatchMember>,
) -> Result<JsonBytes, ApiError> {
    ok(&members::patch(&state, caller, id, member, body).await?)
}

pub(super) async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, member)): ApiPath<(ProjectId, MemberId)>,
) -> Result<StatusCode, ApiError> {
    members::remove(&state, caller, id, member).await?;
    Ok(StatusCode::NO_CONTENT)
}
