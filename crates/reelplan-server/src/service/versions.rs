//! Review versions of a project's video and their members' reviews.
//!
//! A version's documents (its page of the version list, the version alone) are cached under
//! the project's thread scope, since a comment moves their `comment_count` on, and its access
//! scope, since a hit is checked against the access list it carries. What else a version
//! write changes: the detail's feedback block (`current_version`, under the thread scope) and
//! the project's summary (`review`, under the project scope, shown by every member's list and
//! by their filtered list pages).
//!
//! Rules where API.md is silent: an upload's file name is `?name=` when given, else `video`;
//! `fps` is stored as the Limits table writes it (29.97, not 30000/1001).

use std::fmt::Display;

use axum::http::HeaderValue;
use bytes::Bytes;
use reelplan_cache::{Key, Kind, Scope, Want};
use reelplan_domain::{
    Action, Cursor, FileName, MediaType, ProjectId, UserId, ValidationErrors, VersionId,
};
use reelplan_store::{FileMeta, NewReview, NewVersion, PageRequest, Version, VersionPatch};

use super::feedback::PageQuery;
use super::files::{store_object, valid_name, Upload};
use super::project_docs::version_scopes;
use super::{access, check_if_match, page, read_guarded, read_page, require, settle};
use crate::cached::{Doc, Guarded};
use crate::error::{ApiError, ResultExt};
use crate::response::envelope;
use crate::state::AppState;

/// The default size of a page of versions.
const FIRST_PAGE: u32 = 20;

/// Where a page of project `id`'s versions is cached.
fn page_doc_of(id: ProjectId, page: PageRequest, cursor: &str) -> Doc<Guarded> {
    let key = Key::with(Kind::Versions, id.0, format!("p:{}:{cursor}", page.limit));
    Doc::new(Want::both(key, Scope::Thread(id.0), Scope::Access(id.0)))
}

/// Where version `version` of project `id` is cached.
fn version_doc_of(id: ProjectId, version: VersionId) -> Doc<Guarded> {
    let key = Key::with(Kind::Versions, id.0, format!("v:{}", version.0));
    Doc::new(Want::both(key, Scope::Thread(id.0), Scope::Access(id.0)))
}

/// Uploads a new version (editor+); it becomes the current one. Two statements: access, and
/// the insert of the version with its video's row.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn add<S, E>(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    version: Result<NewVersion, ValidationErrors>,
    upload: Upload<S>,
) -> Result<Version, ApiError>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Send,
    E: Display,
{
    let access = access(state, project).await?;
    require(&access, caller, Action::Edit)?;
    let version = version?;
    let name = match upload.name.as_deref() {
        Some(name) => valid_name(name)?,
        None => FileName::video(),
    };
    let content_type = upload
        .content_type
        .as_deref()
        .and_then(|value| MediaType::parse(value).ok())
        .filter(MediaType::is_video)
        .ok_or_else(|| ApiError::BadRequest("the video's Content-Type must be video/*".into()))?;
    let video = store_object(state, name, content_type, upload.content_length, upload.body).await?;
    let recorded = match state.store.add_version(project, caller, &video, &version).await {
        Ok(recorded) => recorded,
        Err(error) => {
            state.objects.delete_or_log(&video.storage_key).await;
            return Err(error).gone_means_no_project();
        }
    };
    settle(state, &version_scopes(project, &access), recorded.event).await;
    Ok(recorded.value)
}

/// Uploads the review video (editor+): since API 1.1, a new version without a label, which
/// becomes the current one (see [`add`]); answers with its `file`. Its name is
/// `?name=` when given, else `video`.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn put_video<S, E>(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    upload: Upload<S>,
) -> Result<FileMeta, ApiError>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Send,
    E: Display,
{
    Ok(add(state, caller, project, Ok(NewVersion::default()), upload).await?.file)
}

/// A page of versions, highest number first, as response bytes. One statement on a miss,
/// none on a hit.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn page_of(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    query: PageQuery,
) -> Result<Bytes, ApiError> {
    let page = page(query.limit, query.cursor.as_deref(), FIRST_PAGE)?;
    let doc = page_doc_of(project, page, query.cursor.as_deref().unwrap_or(""));
    let fetch = || state.store.versions_page(project, page);
    // A version's place in the list is its number; the time only fills the cursor.
    let position = |v: &Version| Cursor { created: v.created, id: v.number };
    read_page(state, caller, &doc, page, fetch, position).await
}

/// One version, as response bytes. One statement on a miss, none on a hit.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn get(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    id: VersionId,
) -> Result<Bytes, ApiError> {
    let doc = version_doc_of(project, id);
    let load = || async {
        let found = state.store.version(project, id).await?.ok_or_else(ApiError::no_project)?;
        match found.version {
            Some(version) => Ok(Guarded { body: envelope(&version)?, access: found.access.into() }),
            None if found.access.role_of(caller).is_some() => {
                Err(ApiError::NotFound("no such version"))
            }
            None => Err::<Guarded, _>(ApiError::no_project()),
        }
    };
    let missing = || state.store.version(project, id);
    Ok(read_guarded(state, caller, &doc, load, missing).await?.body)
}

/// Changes a version's label, fps or duration (editor+), if `If-Match` (when sent) still holds
/// the version's ETag. Two statements: access, update; one more to check `If-Match` on a cold
/// version.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn patch(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    id: VersionId,
    body: Result<VersionPatch, ValidationErrors>,
    if_match: Option<HeaderValue>,
) -> Result<Version, ApiError> {
    require(&access(state, project).await?, caller, Action::Edit)?;
    let patch = body?;
    check_if_match(if_match.as_ref(), || get(state, caller, project, id)).await?;
    let version = state.store.update_version(project, id, &patch, caller).await?;
    let version = version.ok_or(ApiError::NotFound("no such version"))?;
    // Label, fps and duration show in the version's documents and the feedback block only.
    settle(state, &[Scope::Thread(project.0)], version.event).await;
    Ok(version.value)
}

/// Deletes a version with its comments, reviews and video (manager+); the highest remaining
/// version becomes the current one. Two statements: access, delete.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn delete(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    id: VersionId,
) -> Result<(), ApiError> {
    let access = access(state, project).await?;
    require(&access, caller, Action::Manage)?;
    let deleted = state.store.delete_version(project, id, caller).await?;
    let deleted = deleted.ok_or(ApiError::NotFound("no such version"))?;
    settle(state, &version_scopes(project, &access), deleted.event).await;
    state.objects.delete_or_log(&deleted.value).await;
    Ok(())
}

/// Records the caller's review of a version (any member), replacing their earlier one. Three
/// statements: access, the review, and the version read back, which fills its cached document
/// under the tag taken after the invalidation (DESIGN.md invariant 5).
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn review(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    id: VersionId,
    body: Result<NewReview, ValidationErrors>,
) -> Result<Version, ApiError> {
    let access = access(state, project).await?;
    require(&access, caller, Action::Discuss)?;
    let review = body?;
    let event = state.store.put_review(project, id, caller, &review).await?;
    let event = event.ok_or(ApiError::NotFound("no such version"))?;
    settle(state, &version_scopes(project, &access), event).await;
    let doc = version_doc_of(project, id);
    let tags = state.cache.tags(std::slice::from_ref(&doc.want)).await;
    let found = state.store.version(project, id).await?.ok_or_else(ApiError::no_project)?;
    let version = found.version.ok_or(ApiError::NotFound("no such version"))?;
    if let Some(tags) = tags {
        let value = Guarded { body: envelope(&version)?, access: found.access.into() };
        state.cache.fill(vec![doc.entry(tags[0], value)]).await;
    }
    Ok(version)
}
