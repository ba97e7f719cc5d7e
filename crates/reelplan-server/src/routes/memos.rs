//! `/api/projects/{id}/memos`.

use axum::extract::State;
use axum::http::StatusCode;
use reelplan_domain::{validate, MemoId, MemoText, ProjectId, ValidationErrors};
use serde::Deserialize;

use super::ops::schemas as api_doc;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::response::{created, JsonBytes};
use crate::service::memos::{self, ValidMemo};
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

/// `POST /api/projects/{id}/memos` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = new_memo)]
#[serde(deny_unknown_fields)]
pub struct NewMemo {
    date: Option<String>,
    text: Option<String>,
}

impl NewMemo {
    /// The memo, or every field's problem at once.
    pub fn parse(self) -> Result<ValidMemo, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let date =
            errors.check("date", validate::required(self.date.as_deref()).and_then(validate::time));
        let text = errors
            .check("text", validate::required(self.text.as_deref()).and_then(MemoText::parse));
        errors.finish_with(|| Some(ValidMemo { date: date?, text: text? }))
    }
}
