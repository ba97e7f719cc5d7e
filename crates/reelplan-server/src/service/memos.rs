//! Memos on a project.

use reelplan_cache::Scope;
use reelplan_domain::{
    validate, Action, MemoId, MemoText, ProjectId, Timestamp, UserId, ValidationErrors,
};
use reelplan_store::Memo;
use serde::Deserialize;

use super::{access, require};
use crate::error::ApiError;
use crate::error::ResultExt;
use crate::state::AppState;

/// `POST /api/projects/{id}/memos` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = new_memo)]
#[serde(deny_unknown_fields)]
pub struct NewMemo {
    date: Option<String>,
    text: Option<String>,
}

/// A [`NewMemo`] whose fields keep their rules.
#[derive(Debug)]
pub struct ValidMemo {
    date: Timestamp,
    text: MemoText,
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

/// Adds a memo (editor+). Two statements.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn add(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    body: Result<ValidMemo, ValidationErrors>,
) -> Result<Memo, ApiError> {
    require(&access(state, project).await?, caller, Action::Edit)?;
    let ValidMemo { date, text } = body?;
    let cap = state.content.memos_per_project;
    let memo = state
        .store
        .add_memo(project, caller, date, &text, cap)
        .await
        .gone_means_no_project()?
        .ok_or_else(|| ApiError::invalid("memos", &format!("a project holds at most {cap}")))?;
    state.cache.invalidate(&[Scope::Attachments(project.0)]).await;
    Ok(memo)
}

/// Deletes a memo (editor+). Two statements.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn delete(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    id: MemoId,
) -> Result<(), ApiError> {
    require(&access(state, project).await?, caller, Action::Edit)?;
    if !state.store.delete_memo(project, id).await? {
        return Err(ApiError::NotFound("no such memo"));
    }
    state.cache.invalidate(&[Scope::Attachments(project.0)]).await;
    Ok(())
}
