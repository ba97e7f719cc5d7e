//! `/api/projects/{id}/feedback/*`.

use axum::extract::State;
use axum::http::StatusCode;
use reelplan_domain::{validate, CommentId, DiscussionText, ProjectId, Timecode, ValidationErrors};
use serde::Deserialize;

use super::ops::schemas as api_doc;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::response::{created, JsonBytes};
use crate::service::feedback::{self, PageQuery, Thread, ValidComment};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/projects/{id}/feedback/comments",
    tag = "feedback",
    summary = "Timecoded review comments, oldest first.",
    params(("id" = i64, Path, description = "The project's id."), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of comments.", body = api_doc::CommentList),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
    ),
)]
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

#[utoipa::path(
    get,
    path = "/api/projects/{id}/feedback/messages",
    tag = "feedback",
    summary = "Chat messages, newest first.",
    params(("id" = i64, Path, description = "The project's id."), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of messages.", body = api_doc::MessageList),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
    ),
)]
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

#[utoipa::path(
    post,
    path = "/api/projects/{id}/feedback/comments",
    tag = "feedback",
    summary = "Posts a comment (any member).",
    params(("id" = i64, Path, description = "The project's id.")), request_body = NewComment,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new comment.", body = api_doc::CommentResult),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn comment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(body): ApiJson<NewComment>,
) -> Result<JsonBytes, ApiError> {
    created(&feedback::comment(&state, caller, id, body.parse()).await?)
}

#[utoipa::path(
    delete,
    path = "/api/projects/{id}/feedback/comments/{comment_id}",
    tag = "feedback",
    summary = "Deletes a comment (its author, or manager+).",
    params(("id" = i64, Path, description = "The project's id."), ("comment_id" = i64, Path, description = "The comment's id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "The caller's role does not allow this.", body = api_doc::ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn delete_comment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath((id, comment)): ApiPath<(ProjectId, CommentId)>,
) -> Result<StatusCode, ApiError> {
    feedback::delete_comment(&state, caller, id, comment).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/projects/{id}/feedback/messages",
    tag = "feedback",
    summary = "Posts a chat message (any member).",
    params(("id" = i64, Path, description = "The project's id.")), request_body = NewMessage,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new message.", body = api_doc::MessageResult),
        (status = 404, description = "No such project (or the caller is not a member), or no such object.", body = api_doc::ErrorBody),
        (status = 422, description = "A field breaks a rule (`fields` says which).", body = api_doc::ErrorBody),
    ),
)]
pub(super) async fn message(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<JsonBytes, ApiError> {
    created(&feedback::message(&state, caller, id, body.parse()).await?)
}

/// `POST .../feedback/comments` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = new_comment)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    text: Option<String>,
    timecode: Option<f64>,
}

/// `POST .../feedback/messages` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = new_message)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    text: Option<String>,
}

impl NewComment {
    /// The comment, or every field's problem at once.
    pub fn parse(self) -> Result<ValidComment, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let text = errors.check(
            "text",
            validate::required(self.text.as_deref()).and_then(DiscussionText::parse),
        );
        let timecode = self.timecode.map(|t| errors.check("timecode", Timecode::parse(t)));
        errors.finish_with(|| {
            let timecode = match timecode {
                None => None,
                Some(checked) => Some(checked?),
            };
            Some(ValidComment { text: text?, timecode })
        })
    }
}

impl NewMessage {
    /// The message's text, or its problem.
    pub fn parse(self) -> Result<DiscussionText, ValidationErrors> {
        validate::required(self.text.as_deref())
            .and_then(DiscussionText::parse)
            .map_err(|p| ValidationErrors::single("text", p))
    }
}
