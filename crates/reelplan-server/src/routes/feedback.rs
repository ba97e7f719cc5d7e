//! `/api/projects/{id}/feedback/*`.

use axum::extract::State;
use axum::http::StatusCode;
use reelplan_domain::{CommentId, ProjectId};

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::response::{created, JsonBytes};
use crate::service::feedback::{self, NewComment, NewMessage, PageQuery, Thread};
use crate::state::AppState;

pub(super) async fn comments(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(
        StatusCode::OK,
        feedback::page_of(&state, caller, id, Thread::Comments, query).await?,
    ))
}

pub(super) async fn messages(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<JsonBytes, ApiError> {
    Ok(JsonBytes(
        StatusCode::OK,
        feedback::page_of(&state, caller, id, Thread::Messages, query).await?,
    ))
}

pub(super) async fn comment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(body): ApiJson<NewComment>,
) -> Result<JsonBytes, ApiError> {
    created(&feedback::comment(&state, caller, id, body).await?)
}

pub(super) async fn delete_comment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, comment)): ApiPath<(ProjectId, CommentId)>,
) -> Result<StatusCode, ApiError> {
    feedback::delete_comment(&state, caller, id, comment).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn message(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<JsonBytes, ApiError> {
    created(&feedback::message(&state, caller, id, body).await?)
}
