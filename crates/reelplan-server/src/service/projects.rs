//! Projects: the caller's list, the detail, create, patch, delete and phase dates.

use axum::http::HeaderValue;
use bytes::Bytes;
use reelplan_cache::{record, Found, Kind, Outcome, Scope};
use reelplan_domain::{validate, Action, Phase, PhaseDates, ProjectId, UserId, ValidationErrors};
use reelplan_store::{Event, NewProject, ProjectFilter, ProjectPatch, Recorded};
use serde::Deserialize;

use super::project_docs::{
    core_of, detail_body, feedback_doc, feedback_of, read_back, ProjectDocs,
};
use super::{access, check_if_match, list_scopes, page, refused, require, settle, valid_for};
use crate::cached::{docs, Body, Cached, Guarded};
use crate::error::ApiError;
use crate::request_record::set_cache_outcome;
use crate::state::AppState;

/// `GET /api/projects` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Name contains, case-insensitive; at most [`MAX_QUERY_CHARS`] characters (else 400).
    #[param(max_length = 200)]
    q: Option<String>,
    active_from: Option<String>,
    active_to: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Longest `?q=` accepted, in characters: as long as the longest project name (and it goes into
/// the cache key of the filtered page).
pub const MAX_QUERY_CHARS: usize = 200;

fn query_time(
    raw: Option<&str>,
    name: &str,
) -> Result<Option<reelplan_domain::Timestamp>, ApiError> {
    raw.map(|t| validate::time(t).map_err(|p| ApiError::BadRequest(format!("{name} {p}"))))
        .transpose()
}

/// The caller's projects, as response bytes. One statement on a miss, none on a hit.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(state: &AppState, caller: UserId, query: ListQuery) -> Result<Bytes, ApiError> {
    let page = page(query.limit, query.cursor.as_deref(), 20)?;
    let q = query.q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    // PostgreSQL cannot even compare a text with U+0000 in it (and no name holds one).
    if q.as_deref().is_some_and(|q| q.contains('\0')) {
        return Err(ApiError::BadRequest("q must not contain NUL characters".to_owned()));
    }
    if q.as_deref().is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
        let problem = format!("q must be at most {MAX_QUERY_CHARS} characters");
        return Err(ApiError::BadRequest(problem));
    }
    let filter = ProjectFilter {
        q,
        active_from: query_time(query.active_from.as_deref(), "active_from")?,
        active_to: query_time(query.active_to.as_deref(), "active_to")?,
    };
    if filter == ProjectFilter::default() {
        return super::list::page(state, caller, page).await;
    }
    let rest = format!(
        "{}:{}:{:?}:{:?}:{}",
        page.limit,
        query.cursor.as_deref().unwrap_or(""),
        filter.active_from.map(|t| t.timestamp_micros()),
        filter.active_to.map(|t| t.timestamp_micros()),
        filter.q.as_deref().unwrap_or(""),
    );
    super::list::filtered(state, caller, &filter, page, rest).await
}

/// A project's detail for the caller, as response bytes: its detail document and feedback
/// block, fetched together (one Redis round trip at most). One statement on a miss of either
/// (the access check uses the members the document holds), none on a hit.
#[tracing::instrument(level = "debug", skip_all, fields(project = id.0))]
pub async fn detail(state: &AppState, caller: UserId, id: ProjectId) -> Result<Bytes, ApiError> {
    let (core_doc, block) = (core_of(id), feedback_of(id));
    let found = state.cache.lookup(&[core_doc.want.clone(), block.want.clone()]).await;
    let typed = found.and_then(|found| {
        let [core, feedback]: [Found<Cached>; 2] = found.try_into().ok()?;
        Some((core_doc.found(core)?, block.found(feedback)?))
    });
    let Some((core, feedback)) = typed else {
        set_cache_outcome(Outcome::Bypass);
        let detail = state.store.project_detail(id).await?.ok_or_else(ApiError::no_project)?;
        return ProjectDocs::of(&detail)?.respond(caller);
    };
    let (core, feedback, outcome) = match (core, feedback) {
        (Found::Hit(core, a), Found::Hit(feedback, b)) => {
            record(Kind::ProjectDetail, a);
            record(Kind::DetailFeedback, b);
            (core, feedback, a)
        }
        (Found::Hit(core, a), Found::Miss(tag)) => {
            record(Kind::ProjectDetail, a);
            let _flight = state.cache.flight(block.key()).await;
            match docs::<Body>(&state.cache).held(&block, tag).await {
                Some(feedback) => {
                    record(Kind::DetailFeedback, Outcome::HitL1);
                    (core, feedback, Outcome::HitL1)
                }
                None => {
                    record(Kind::DetailFeedback, Outcome::Miss);
                    let summary = state.store.feedback_summary(id).await?;
                    let feedback = feedback_doc(&summary.ok_or_else(ApiError::no_project)?)?;
                    state.cache.fill(vec![block.entry(tag, feedback.clone())]).await;
                    (core, feedback, Outcome::Miss)
                }
            }
        }
        (Found::Miss(core_tag), feedback) => {
            // Both keys: a reader that finds the document this load fills but not yet its
            // block waits on the block's flight rather than loading the block again.
            let _flights = state.cache.flights(&[core_doc.key(), block.key()]).await;
            let held = docs::<Guarded>(&state.cache).held(&core_doc, core_tag).await;
            let (held_feedback, feedback_tag) = match feedback {
                Found::Hit(doc, tier) => {
                    record(Kind::DetailFeedback, tier);
                    (Some(doc), None)
                }
                Found::Miss(tag) => (docs::<Body>(&state.cache).held(&block, tag).await, Some(tag)),
            };
            match (held, held_feedback) {
                (Some(core), Some(feedback)) => {
                    record(Kind::ProjectDetail, Outcome::HitL1);
                    if feedback_tag.is_some() {
                        record(Kind::DetailFeedback, Outcome::HitL1);
                    }
                    (core, feedback, Outcome::HitL1)
                }
                _ => {
                    record(Kind::ProjectDetail, Outcome::Miss);
                    let detail =
                        state.store.project_detail(id).await?.ok_or_else(ApiError::no_project)?;
                    let built = ProjectDocs::of(&detail)?;
                    let mut fills = vec![core_doc.entry(core_tag, built.core.clone())];
                    if let Some(tag) = feedback_tag {
                        fills.push(block.entry(tag, built.feedback.clone()));
                    }
                    state.cache.fill(fills).await;
                    (built.core, built.feedback, Outcome::Miss)
                }
            }
        }
    };
    if core.access.role_of(caller).is_none() {
        let missing = outcome.is_hit().then(|| state.store.project_detail(id));
        return Err(super::not_a_participant(missing).await);
    }
    set_cache_outcome(outcome);
    detail_body(&core, &feedback, caller)
}

/// After a write committed: moves `scopes` on, reads the detail back and fills the project's
/// documents with it (see [`read_back`]), moves on the filtered lists of its participants
/// (those `scopes` did not name already), publishes the write's event, and answers with the
/// caller's view of it. One statement.
async fn answer_after_write(
    state: &AppState,
    caller: UserId,
    id: ProjectId,
    scopes: Vec<Scope>,
    event: Event,
) -> Result<Bytes, ApiError> {
    let (detail, docs) = read_back(state, id, &scopes).await?.ok_or_else(ApiError::no_project)?;
    let late: Vec<Scope> = list_scopes(detail.access().participants())
        .filter(|scope| !scopes.contains(scope))
        .collect();
    settle(state, &late, event).await;
    docs.respond(caller)
}

/// Creates a project owned by the caller. Two statements.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(
    state: &AppState,
    caller: UserId,
    project: NewProject,
) -> Result<Bytes, ApiError> {
    let Recorded { value: id, event } = state.store.create_project(caller, &project).await?;
    let scopes = vec![Scope::Memberships(caller.0), Scope::Lists(caller.0)];
    answer_after_write(state, caller, id, scopes, event).await
}

/// Changes a project's fields (manager+), if `If-Match` (when sent) still holds the caller's
/// detail ETag. Two statements: the update (which checks the role), and the read-back; one
/// more to check `If-Match` on a cold detail.
#[tracing::instrument(level = "debug", skip_all, fields(project = id.0))]
pub async fn patch(
    state: &AppState,
    caller: UserId,
    id: ProjectId,
    body: Result<ProjectPatch, ValidationErrors>,
    if_match: Option<HeaderValue>,
) -> Result<Bytes, ApiError> {
    let patch = valid_for(state, id, caller, Action::Manage, body).await?;
    check_if_match(if_match.as_ref(), || detail(state, caller, id)).await?;
    let Some(event) = state.store.update_project(id, &patch, caller).await? else {
        return Err(refused(state, id, caller, Action::Manage).await);
    };
    answer_after_write(state, caller, id, vec![Scope::Project(id.0)], event).await
}

/// Sets one phase's dates (editor+), if `If-Match` (when sent) still holds the caller's detail
/// ETag. Two statements: the update (which checks the role), and the read-back; one more to
/// check `If-Match` on a cold detail.
#[tracing::instrument(level = "debug", skip_all, fields(project = id.0))]
pub async fn put_phase(
    state: &AppState,
    caller: UserId,
    id: ProjectId,
    phase: Phase,
    body: Result<PhaseDates, ValidationErrors>,
    if_match: Option<HeaderValue>,
) -> Result<Bytes, ApiError> {
    let dates = valid_for(state, id, caller, Action::Edit, body).await?;
    check_if_match(if_match.as_ref(), || detail(state, caller, id)).await?;
    let Some(event) = state.store.set_phase(id, phase, dates, caller).await? else {
        return Err(refused(state, id, caller, Action::Edit).await);
    };
    answer_after_write(state, caller, id, vec![Scope::Project(id.0)], event).await
}

/// Deletes a project (owner only), then the objects of the files the delete returned. Two
/// statements: access, delete.
#[tracing::instrument(level = "debug", skip_all, fields(project = id.0))]
pub async fn delete(state: &AppState, caller: UserId, id: ProjectId) -> Result<(), ApiError> {
    let access = access(state, id).await?;
    require(&access, caller, Action::Delete)?;
    let Some(Recorded { value: keys, event }) = state.store.delete_project(id, caller).await?
    else {
        return Err(ApiError::no_project());
    };
    // The project's own scope is what refuses it everywhere, even in the memberships of a
    // participant this delete did not know of (they miss its summary and reload).
    let mut scopes =
        vec![Scope::Project(id.0), Scope::Thread(id.0), Scope::Access(id.0), Scope::Activity(id.0)];
    for user in access.participants() {
        scopes.extend([Scope::Memberships(user.0), Scope::Lists(user.0)]);
    }
    state.cache.invalidate(&scopes).await;
    state.cache.bury(&[id.0]).await;
    state.events.publish(event);
    super::files::remove_project_objects(state, keys).await;
    Ok(())
}
