//! Use cases: permission checks, validation, cache read-through and invalidation. Handlers
//! call these; these call the store and the cache. Each function's doc names its statement
//! budget, which the query-budget tests hold it to.

pub mod activity;
pub mod export;
pub mod feedback;
pub mod files;
mod list;
pub mod members;
pub mod memos;
mod project_docs;
pub mod projects;
pub mod users;
pub mod versions;

use std::future::Future;

use crate::request_record::{clear_cache_outcome, set_cache_outcome};
use reelplan_cache::Scope;
use reelplan_domain::{validate, Action, Cursor, ProjectId, Role, UserId, ValidationErrors};
use reelplan_store::{PageRequest, ProjectAccess, StoreResult, ThreadPage};
use serde::{Deserialize, Deserializer, Serialize};

use crate::cached::{docs, Doc, DocValue, Guarded};
use crate::error::ApiError;
use crate::response::list_envelope;
use crate::state::AppState;

/// Settles an acknowledged write: moves the cache on for `scopes` and for the project's
/// activity, then publishes the write's event, so that nobody who hears of it reads older data
/// (DESIGN.md invariant 6).
pub(crate) async fn settle(state: &AppState, scopes: &[Scope], event: reelplan_store::Event) {
    state.cache.invalidate(&settled_scopes(scopes, &event)).await;
    state.events.publish(event);
}

/// What settling `event` moves on: `scopes` and the project's activity.
pub(crate) fn settled_scopes(scopes: &[Scope], event: &reelplan_store::Event) -> Vec<Scope> {
    let mut all = Vec::with_capacity(scopes.len() + 1);
    all.extend_from_slice(scopes);
    all.push(Scope::Activity(event.project_id.0));
    all
}

/// Reads one document through the cache ([`crate::cached::Docs::read`]) and records the
/// outcome for the response headers.
pub(crate) async fn read_through<T: DocValue, Fut>(
    state: &AppState,
    doc: &Doc<T>,
    load: impl Fn() -> Fut,
) -> Result<T, ApiError>
where
    Fut: Future<Output = Result<T, ApiError>>,
{
    let (value, outcome) = docs::<T>(&state.cache).read(doc, load).await?;
    set_cache_outcome(outcome);
    Ok(value)
}

/// A write's `If-Match` (None when it sent none), checked against the ETag of the body the
/// caller would read now (`current`, through the cache: no statement on a warm one) before
/// anything is written: 412 when it no longer holds it. The read is the caller's own, so it
/// leaves no cache outcome on the write's response.
///
/// The check and the write are two steps: a write by someone else that commits between them
/// is not seen (the window is one statement's round trip).
pub(crate) async fn check_if_match<Fut>(
    held: Option<&axum::http::HeaderValue>,
    current: impl FnOnce() -> Fut,
) -> Result<(), ApiError>
where
    Fut: Future<Output = Result<bytes::Bytes, ApiError>>,
{
    let Some(held) = held else {
        return Ok(());
    };
    let body = current().await?;
    clear_cache_outcome();
    if crate::etag::matches(held, &crate::etag::etag_of(&body)) {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed)
    }
}

/// Reads a project's guarded document through the cache (see [`read_through`]) for a caller
/// who must take part in the project: 404 otherwise, as for a missing project, with `missing`
/// (the read a missing project's 404 runs) run when the answer came from the cache, so both
/// 404s cost one statement ([`not_a_participant`]).
pub(crate) async fn read_guarded<Fut, Missing, T>(
    state: &AppState,
    caller: UserId,
    doc: &Doc<Guarded>,
    load: impl Fn() -> Fut,
    missing: impl FnOnce() -> Missing,
) -> Result<Guarded, ApiError>
where
    Fut: Future<Output = Result<Guarded, ApiError>>,
    Missing: Future<Output = reelplan_store::StoreResult<T>>,
{
    let (value, outcome) = docs::<Guarded>(&state.cache).read(doc, load).await?;
    if value.access.role_of(caller).is_none() {
        return Err(not_a_participant(outcome.is_hit().then(missing)).await);
    }
    set_cache_outcome(outcome);
    Ok(value)
}

/// The caller's role on a project that allows `action`: 404 when they are not part of it,
/// 403 when their role is too weak.
pub(crate) fn require(
    access: &ProjectAccess,
    caller: UserId,
    action: Action,
) -> Result<Role, ApiError> {
    let role = access.role_of(caller).ok_or_else(ApiError::no_project)?;
    if role.allows(action) {
        Ok(role)
    } else {
        Err(ApiError::Forbidden)
    }
}

/// A write whose statement checked the caller's role itself changed nothing: the access list
/// (one statement, on this path only) tells a non-participant or a missing project (404) from
/// a role too weak (403). A role that allows it now raced a change of role, and is refused as
/// the write was.
pub(crate) async fn refused(
    state: &AppState,
    project: ProjectId,
    caller: UserId,
    action: Action,
) -> ApiError {
    match access(state, project).await {
        Err(error) => error,
        Ok(access) => require(&access, caller, action).err().unwrap_or(ApiError::Forbidden),
    }
}

/// Validation for a write that checks the role in its own statement: a validation error is
/// answered only to a caller allowed to act, the others get the 404 or 403 they would get
/// anyway (one statement, on this path only).
pub(crate) async fn valid_for<T>(
    state: &AppState,
    project: ProjectId,
    caller: UserId,
    action: Action,
    parsed: Result<T, ValidationErrors>,
) -> Result<T, ApiError> {
    match parsed {
        Ok(value) => Ok(value),
        Err(errors) => {
            require(&access(state, project).await?, caller, action)?;
            Err(errors.into())
        }
    }
}

/// The access list of a project (one statement); 404 when there is no such project.
pub(crate) async fn access(
    state: &AppState,
    project: ProjectId,
) -> Result<ProjectAccess, ApiError> {
    state.store.access(project).await?.ok_or_else(ApiError::no_project)
}

/// `?limit=&cursor=` as a page request that asks one row more than it shows.
pub(crate) fn page(
    limit: Option<i64>,
    cursor: Option<&str>,
    default: u32,
) -> Result<PageRequest, ApiError> {
    let limit =
        validate::page_limit(limit, default).map_err(|p| ApiError::BadRequest(p.to_owned()))?;
    let after =
        cursor.map(Cursor::decode).transpose().map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(PageRequest { limit: limit + 1, after })
}

/// A page of a project's list (versions, activity) as response bytes, read through the cache
/// for a caller who takes part ([`read_guarded`]): `fetch` is the store's page read, both the
/// load on a miss and the 404's read on a hit; `position` places an item for the next cursor.
pub(crate) async fn read_page<T, Fut>(
    state: &AppState,
    caller: UserId,
    doc: &Doc<Guarded>,
    page: PageRequest,
    fetch: impl Fn() -> Fut,
    position: impl Fn(&T) -> Cursor,
) -> Result<bytes::Bytes, ApiError>
where
    T: Serialize,
    Fut: Future<Output = StoreResult<Option<ThreadPage<T>>>>,
{
    let load = || thread_doc(fetch(), page, &position);
    Ok(read_guarded(state, caller, doc, load, &fetch).await?.body)
}

/// A page's guarded document from the store's page read (None: no such project), its next
/// cursor at `position` of its last item.
pub(crate) async fn thread_doc<T, Fut>(
    rows: Fut,
    page: PageRequest,
    position: impl Fn(&T) -> Cursor,
) -> Result<Guarded, ApiError>
where
    T: Serialize,
    Fut: std::future::Future<Output = StoreResult<Option<ThreadPage<T>>>>,
{
    page_doc(rows.await?.ok_or_else(ApiError::no_project)?, page, position)
}

/// A page's guarded document from its rows (see [`thread_doc`]).
pub(crate) fn page_doc<T: Serialize>(
    rows: ThreadPage<T>,
    page: PageRequest,
    position: impl Fn(&T) -> Cursor,
) -> Result<Guarded, ApiError> {
    let ThreadPage { access, items } = rows;
    let (items, next) = split_page(items, page, position);
    Ok(Guarded { body: list_envelope(&items, next)?, access: access.into() })
}

/// Cuts the extra row a [`page`] asked for and returns the cursor of the next page, if any.
pub(crate) fn split_page<T>(
    mut items: Vec<T>,
    page: PageRequest,
    position: impl Fn(&T) -> Cursor,
) -> (Vec<T>, Option<String>) {
    let shown = page.limit as usize - 1;
    if items.len() > shown {
        items.truncate(shown);
        let next = items.last().map(|last| position(last).encode());
        (items, next)
    } else {
        (items, None)
    }
}

/// Distinguishes an absent field (`None`) from an explicit null (`Some(None)`) in a patch.
pub(crate) fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Scopes of every listed user's filtered list pages.
pub(crate) fn list_scopes(users: impl IntoIterator<Item = UserId>) -> impl Iterator<Item = Scope> {
    users.into_iter().map(|u| Scope::Lists(u.0))
}

/// The 404 of a caller who is not part of an existing project, made indistinguishable from a
/// missing project's in its headers: one statement run (`missing`, the read a missing
/// project's 404 runs, when the answer came from the cache and ran none), no cache outcome.
pub(crate) async fn not_a_participant<T>(
    missing: Option<impl std::future::Future<Output = reelplan_store::StoreResult<T>>>,
) -> ApiError {
    if let Some(read) = missing {
        if let Err(error) = read.await {
            return error.into();
        }
    }
    clear_cache_outcome();
    ApiError::no_project()
}
