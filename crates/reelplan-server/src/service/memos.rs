//! Memos on a project.

use reelplan_cache::Scope;
use reelplan_domain::{Action, MemoId, MemoText, ProjectId, Timestamp, UserId, ValidationErrors};
use reelplan_store::Memo;

use super::{access, require, settle};
use crate::error::ApiError;
use crate::error::ResultExt;
use crate::state::AppState;

/// A `NewMemo` body whose fields keep their rules.
#[derive(Debug)]
pub struct ValidMemo {
    pub(crate) date: Timestamp,
    pub(crate) text: MemoText,
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
    settle(state, &[Scope::Attachments(project.0)], memo.event).await;
    Ok(memo.value)
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
    let event = state.store.delete_memo(project, id, caller).await?;
    let event = event.ok_or(ApiError::NotFound("no such memo"))?;
    settle(state, &[Scope::Attachments(project.0)], event).await;
    Ok(())
}
