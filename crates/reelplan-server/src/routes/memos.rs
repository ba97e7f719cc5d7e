//! `/api/projects/{id}/memos`.

use axum::extract::State;
use axum::http::StatusCode;
use reelplan_domain::{MemoId, ProjectId};

use super::ops::schemas as api_doc;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::response::{created, JsonBytes};
use crate::service::memos::{self, NewMemo};
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/api/projects/{id}/memos",
    tag = "memos",
    summary = "Adds a memo (editor+).",
    params(("id" = i64, Path, description = "The project's id.")), request_body = NewMemo,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new memo.", body = api_doc::MemoResult),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn add(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(body): ApiJson<NewMemo>,
) -> Result<JsonBytes, ApiError> {
    created(&memos::add(&state, caller, id, body.parse()).await?)
}

#[utoipa::path(
    delete,
    path = "/api/projects/{id}/memos/{memo_id}",
    tag = "memos",
    summary = "Deletes a memo (editor+).",
    params(("id" = i64, Path, description = "The project's id."), ("memo_id" = i64, Path, description = "The memo's id.")),
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
    ApiPath((id, memo)): ApiPath<(ProjectId, MemoId)>,
) -> Result<StatusCode, ApiError> {
    memos::delete(&state, caller, id, memo).await?;
    Ok(StatusCode::NO_CONTENT)
}
