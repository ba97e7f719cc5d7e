//! The feedback thread: timecoded comments and chat messages.

use axum::http::HeaderValue;
use bytes::Bytes;
use reelplan_cache::{Key, Kind, Scope, Want};
use reelplan_domain::{
    Action, CommentId, Cursor, DiscussionText, ProjectId, Role, UserId, ValidationErrors,
};
use reelplan_store::{
    Comment, CommentFilter, CommentPatch, Event, Message, NewComment, PageRequest, Recorded,
};
use serde::Deserialize;

use super::project_docs::{feedback_doc, feedback_of};
use super::{access, page, page_doc, require, settle, settled_scopes, thread_doc, valid_for};
use crate::cached::{Doc, Guarded};
use crate::error::{ApiError, ResultExt};
use crate::etag::{matches, page_etag};
use crate::request_record::clear_cache_outcome;
use crate::state::AppState;

/// `?limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub(crate) limit: Option<i64>,
    pub(crate) cursor: Option<String>,
}

/// Which thread of the feedback.
#[derive(Debug, Clone, Copy)]
pub enum Thread {
    /// Comments, oldest first, filtered.
    Comments(CommentFilter),
    /// Messages, newest first.
    Messages,
}

/// Where a thread page is cached: its thread, size and cursor.
fn thread_doc_of(
    project: ProjectId,
    thread: Thread,
    page: PageRequest,
    cursor: &str,
) -> Doc<Guarded> {
    let rest = match thread {
        Thread::Comments(CommentFilter { version, resolved }) => {
            let version = version.map_or(-1, |v| v.0);
            let resolved = resolved.map_or("", |r| if r { "t" } else { "f" });
            format!("c:{}:{cursor}:{version}:{resolved}", page.limit)
        }
        Thread::Messages => format!("m:{}:{cursor}", page.limit),
    };
    let key = Key::with(Kind::FeedbackThread, project.0, rest);
    Doc::new(Want::both(key, Scope::Thread(project.0), Scope::Access(project.0)))
}

/// A page of a thread, as response bytes. One statement on a miss (it reads the access list
/// too), none on a hit.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn page_of(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    thread: Thread,
    query: PageQuery,
) -> Result<Bytes, ApiError> {
    let page = page(query.limit, query.cursor.as_deref(), FIRST_PAGE)?;
    let doc = thread_doc_of(project, thread, page, query.cursor.as_deref().unwrap_or(""));
    let load = || async {
        match thread {
            Thread::Comments(filter) => {
                let rows = state.store.comments_page(project, filter, page);
                thread_doc(rows, page, |c: &Comment| Cursor { created: c.created, id: c.id.0 })
                    .await
            }
            Thread::Messages => {
                let rows = state.store.messages_page(project, page);
                thread_doc(rows, page, |m: &Message| Cursor { created: m.created, id: m.id.0 })
                    .await
            }
        }
    };
    let missing = || async {
        match thread {
            Thread::Comments(filter) => {
                state.store.comments_page(project, filter, page).await.map(drop)
            }
            Thread::Messages => state.store.messages_page(project, page).await.map(drop),
        }
    };
    Ok(super::read_guarded(state, caller, &doc, load, missing).await?.body)
}

/// The default size of a thread page.
const FIRST_PAGE: u32 = 50;

/// A thread changed: its pages and the detail's feedback block, nothing else of the project.
async fn settle_thread(state: &AppState, event: Event) {
    let thread = Scope::Thread(event.project_id.0);
    settle(state, &[thread], event).await;
}

/// After a comment committed: moves its thread and activity on and takes the tags (one Redis
/// round trip), publishes its event, then reads back the first page of comments and the
/// feedback block in one statement and fills both under those tags, so the readers who
/// refetch after a comment (its thread, the project's detail) hit.
async fn read_back_thread(state: &AppState, event: Event) -> Result<(), ApiError> {
    let project = event.project_id;
    let page = page(None, None, FIRST_PAGE)?;
    let thread = thread_doc_of(project, Thread::Comments(CommentFilter::default()), page, "");
    let block = feedback_of(project);
    let bump = settled_scopes(&[Scope::Thread(project.0)], &event);
    let wants = [thread.want.clone(), block.want.clone()];
    let tags = state.cache.invalidate_then_tags(&bump, &wants).await;
    state.events.publish(event);
    let Some((rows, feedback)) = state.store.comments_head(project, page.limit).await? else {
        return Ok(());
    };
    if let Some(tags) = tags {
        let first = page_doc(rows, page, |c: &Comment| Cursor { created: c.created, id: c.id.0 })?;
        let fills =
            vec![thread.entry(tags[0], first), block.entry(tags[1], feedback_doc(&feedback)?)];
        state.cache.fill(fills).await;
    }
    Ok(())
}

/// Posts a comment or a reply (any member). Two statements: the insert (which checks the
/// caller takes part, and the version and the parent it names), and the read-back; one more
/// when the insert refused, to tell a non-participant (404) from a version or parent that is
/// not one of the project's (422).
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn comment(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    body: Result<NewComment, ValidationErrors>,
) -> Result<Comment, ApiError> {
    let new = valid_for(state, project, caller, Action::Discuss, body).await?;
    let added = state.store.add_comment(project, caller, &new).await.gone_means_no_project()?;
    let Some(Recorded { value: comment, event }) = added else {
        require(&access(state, project).await?, caller, Action::Discuss)?;
        return Err(match new.parent {
            Some(_) => ApiError::invalid(
                "parent_id",
                "must be a top-level comment of this project (and of version_id, when given)",
            ),
            None => ApiError::invalid("version_id", "must be a version of this project"),
        });
    };
    read_back_thread(state, event).await?;
    Ok(comment)
}

/// One page of the comment list: what its ETag names (see [`crate::etag::page_etag`]).
#[derive(Debug, Default)]
pub struct CommentPage {
    /// Its query string, as the tag names it (empty for the first page).
    pub query: String,
    /// Its filter.
    pub filter: CommentFilter,
    /// Its limit and cursor.
    pub page: PageQuery,
}

/// A comment page a write's `If-Match` holds the tag of (API.md: "for a comment, the comment
/// list page that showed it").
#[derive(Debug)]
pub struct HeldPage {
    /// The tag as the client sent it.
    pub tag: HeaderValue,
    /// The page it names.
    pub page: CommentPage,
}

/// What a comment change's `If-Match` holds.
#[derive(Debug)]
pub enum IfMatch {
    /// `*`: any current page.
    Any,
    /// The pages its tags name (none when no tag is one this server issued: it matches
    /// nothing).
    Pages(Vec<HeldPage>),
}

/// The tag of comment page `page` as `caller` reads it now (through the cache).
async fn tag_now(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    page: &CommentPage,
) -> Result<HeaderValue, ApiError> {
    let thread = Thread::Comments(page.filter);
    let body = page_of(state, caller, project, thread, page.page.clone()).await?;
    Ok(page_etag(&body, &page.query))
}

/// Changes a comment's text (its author) or resolves and reopens it (its author, or editor+),
/// if `If-Match` (when sent) still holds the tag of one of the pages it names; answers with
/// the new tag of the first of them (or of the thread's first page). Two statements: the
/// update, which checks who may, and the page read back (which fills it for the next reader);
/// one more to check `If-Match` on a cold page. A refusal reads the access list and the author
/// to say why.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn patch_comment(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    id: CommentId,
    body: Result<CommentPatch, ValidationErrors>,
    if_match: Option<IfMatch>,
) -> Result<(Comment, HeaderValue), ApiError> {
    let patch = match body {
        Ok(patch) => patch,
        Err(errors) => {
            // A non-member learns nothing from the body's validation.
            require(&access(state, project).await?, caller, Action::Read)?;
            return Err(errors.into());
        }
    };
    let held: &[HeldPage] = match &if_match {
        Some(IfMatch::Pages(pages)) => pages,
        Some(IfMatch::Any) | None => &[],
    };
    if matches!(if_match, Some(IfMatch::Pages(_))) {
        let mut holds = false;
        for held in held {
            holds |= matches(&held.tag, &tag_now(state, caller, project, &held.page).await?);
        }
        clear_cache_outcome();
        if !holds {
            return Err(ApiError::PreconditionFailed);
        }
    }
    let Some(Recorded { value: comment, event }) =
        state.store.update_comment(project, id, &patch, caller).await?
    else {
        return Err(refused_comment_change(state, caller, project, id, &patch).await);
    };
    settle_thread(state, event).await;
    let first_page = CommentPage::default();
    let answered = held.first().map_or(&first_page, |held| &held.page);
    let tag = tag_now(state, caller, project, answered).await?;
    clear_cache_outcome();
    Ok((comment, tag))
}

/// Why a comment change was refused: 404 for a non-participant or a missing comment, else 403.
async fn refused_comment_change(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    id: CommentId,
    patch: &CommentPatch,
) -> ApiError {
    let role = match access(state, project).await {
        Ok(access) => match require(&access, caller, Action::Read) {
            Ok(role) => role,
            Err(error) => return error,
        },
        Err(error) => return error,
    };
    match state.store.comment_author(project, id).await {
        Ok(None) => ApiError::NotFound("no such comment"),
        Ok(Some(author)) => {
            let allowed = author == caller || (patch.text.is_none() && role >= Role::Editor);
            // Allowed now but refused when the update ran: the caller's role changed between.
            if allowed {
                ApiError::Conflict("the comment or the caller's role changed; try again")
            } else {
                ApiError::Forbidden
            }
        }
        Err(error) => error.into(),
    }
}

/// Deletes a comment, a top-level one with its replies (its author, or manager+). Three
/// statements.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn delete_comment(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    id: CommentId,
) -> Result<(), ApiError> {
    let role = require(&access(state, project).await?, caller, Action::Read)?;
    let author = state
        .store
        .comment_author(project, id)
        .await?
        .ok_or(ApiError::NotFound("no such comment"))?;
    if author != caller && role < Role::Manager {
        return Err(ApiError::Forbidden);
    }
    let event = state.store.delete_comment(project, id, caller).await?;
    settle_thread(state, event.ok_or(ApiError::NotFound("no such comment"))?).await;
    Ok(())
}

/// Posts a chat message (any member). One statement: the insert, which checks the caller
/// takes part.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn message(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    body: Result<DiscussionText, ValidationErrors>,
) -> Result<Message, ApiError> {
    let text = valid_for(state, project, caller, Action::Discuss, body).await?;
    let message = state
        .store
        .add_message(project, caller, &text)
        .await
        .gone_means_no_project()?
        .ok_or_else(ApiError::no_project)?;
    settle_thread(state, message.event).await;
    Ok(message.value)
}
