//! `/api/projects/{id}/memos`.

use axum::extract::State;
use axum::http::StatusCode;
use reelplan_domain::{MemoId, ProjectId};

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::response::{created, JsonBytes};
use crate::service::memos::{self, NewMemo};
use crate::state::AppState;

pub(super) async fn add(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(body): ApiJson<NewMemo>,
) -> Result<JsonBytes, ApiError> {
    created(&memos::add(&state, caller, id, body).await?)
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, memo)): ApiPath<(ProjectId, MemoId)>,
) -> Result<StatusCode, ApiError> {
    memos::delete(&state, caller, id, memo).await?;
    Ok(StatusCode::NO_CONTENT)
}
