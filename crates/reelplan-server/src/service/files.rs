//! Project files, and the streaming and downloads every stored object shares (a version's
//! video is recorded by `versions.rs`): permission checks, validation, streaming to the
//! object store, the metadata row, cache invalidation and object clean-up.
//!
//! Order of a write, so that a failure at any step leaves neither half: check access, stream
//! the body into a fresh object (aborted when cut off), write the row only once the object is
//! complete (and delete the object when the row cannot be written), invalidate the project's
//! detail, and only then remove objects whose rows are gone (a failure there is logged for a
//! sweep, never shown to the user). Rules:
//!
//! - a file's name (`?name=`) is required: 1-255 characters after trimming, no control
//!   characters (422 `validation`, field `name`); it is only ever shown and sent back in
//!   `Content-Disposition`, never used as a storage key;
//! - a file's content type is any `type/subtype` with optional parameters (default
//!   `application/octet-stream`), else 422 (field `content_type`);
//! - a version's video must have a well-formed `video/*` content type, else 400
//!   `bad_request`: the contract's table gives "wrong content type" to 400 (not 415, which it
//!   does not list); its name is `?name=` when given, else `video`;
//! - a body over the upload limit is 413 `payload_too_large`, before reading when
//!   `Content-Length` says so, else as soon as the count passes the limit.

use std::fmt::Display;
use std::ops::Range;

use bytes::Bytes;
use reelplan_cache::Scope;
use reelplan_domain::{Action, FileId, FileName, MediaType, ProjectId, UserId};
use reelplan_store::{FileMeta, NewFile, StoredFile};

use super::project_docs::version_scopes;
use super::{access, require, settle};
use crate::error::ApiError;
use crate::error::ResultExt;
use crate::objects::{Download, Objects, UploadError};
use crate::state::AppState;

/// An upload as the route hands it over: the header fields and the body stream.
pub struct Upload<S> {
    /// `?name=`.
    pub name: Option<String>,
    /// The `Content-Type` header, if any (and readable).
    pub content_type: Option<String>,
    /// The `Content-Length` header, if any.
    pub content_length: Option<u64>,
    /// The body.
    pub body: S,
}

/// Uploads a project file (editor+). Two statements: access, insert.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn add<S, E>(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    upload: Upload<S>,
) -> Result<FileMeta, ApiError>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Send,
    E: Display,
{
    require(&access(state, project).await?, caller, Action::Edit)?;
    let name = valid_name(upload.name.as_deref().unwrap_or(""))?;
    let content_type = match upload.content_type.as_deref() {
        None => MediaType::octet_stream(),
        Some(value) => content_type(value)?,
    };
    let file = store_object(state, name, content_type, upload.content_length, upload.body).await?;
    let cap = state.content.files_per_project;
    let recorded = match state.store.add_file(project, &file, cap, caller).await {
        Ok(Some(recorded)) => recorded,
        Ok(None) => {
            state.objects.delete_or_log(&file.storage_key).await;
            return Err(ApiError::invalid("files", &format!("a project holds at most {cap}")));
        }
        Err(error) => {
            state.objects.delete_or_log(&file.storage_key).await;
            return Err(error).gone_means_no_project();
        }
    };
    settle(state, &[Scope::Attachments(project.0)], recorded.event).await;
    Ok(recorded.value)
}

/// What a download serves.
pub struct Served {
    /// The file's metadata (name, content type, size).
    pub meta: FileMeta,
    /// The bytes (of the requested range).
    pub download: Download,
    /// Whether a range was asked for and is served (206) rather than the whole file (200).
    pub partial: bool,
}

/// The bytes a download asks for (a `Range` header's single `bytes` range, RFC 9110), before
/// the file's size is known. Inclusive positions, as the header writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `first-` or `first-last` (with `first <= last`).
    From {
        /// The first byte.
        first: u64,
        /// The last byte, None: to the end.
        last: Option<u64>,
    },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

/// A byte range resolved against the file's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeRequest {
    /// No range asked: the whole file (200).
    Full,
    /// One satisfiable range (206).
    Part(Range<u64>),
    /// A range outside the file (416).
    Unsatisfiable,
}

impl RangeRequest {
    /// `asked` against a file of `size` bytes.
    pub fn resolve(asked: Option<ByteRange>, size: u64) -> RangeRequest {
        match asked {
            None => RangeRequest::Full,
            Some(ByteRange::Suffix(0)) => RangeRequest::Unsatisfiable,
            Some(_) if size == 0 => RangeRequest::Unsatisfiable,
            Some(ByteRange::Suffix(n)) => RangeRequest::Part(size - n.min(size)..size),
            Some(ByteRange::From { first, .. }) if first >= size => RangeRequest::Unsatisfiable,
            Some(ByteRange::From { first, last }) => {
                RangeRequest::Part(first..last.unwrap_or(u64::MAX).min(size - 1) + 1)
            }
        }
    }
}

/// Opens a file (either kind) for download (member). One statement.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn download(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    id: FileId,
    range: Option<ByteRange>,
) -> Result<Served, ApiError> {
    let found = state.store.file(project, id).await.map_err(ApiError::from)?;
    let found = found.ok_or_else(ApiError::no_project)?;
    require(&found.access, caller, Action::Read)?;
    let StoredFile { meta, storage_key } = found.file.ok_or(ApiError::NotFound("no such file"))?;
    let size = u64::try_from(meta.size).unwrap_or(0);
    let (range, partial) = match RangeRequest::resolve(range, size) {
        RangeRequest::Full => (0..size, false),
        RangeRequest::Part(range) => (range, true),
        RangeRequest::Unsatisfiable => return Err(ApiError::RangeNotSatisfiable { size }),
    };
    // A zero-byte file is served without asking the store for an empty range.
    let download = if range.is_empty() {
        Download { range, stream: Box::pin(futures::stream::empty()) }
    } else {
        state.objects.download(&storage_key, Some(range)).await.map_err(|error| {
            tracing::error!(key = %storage_key, %error, "a recorded file cannot be read");
            ApiError::Internal
        })?
    };
    Ok(Served { meta, download, partial })
}

/// Deletes a file or the video (editor+); its object goes once the row is gone. Two
/// statements: access, delete.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn delete(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    id: FileId,
) -> Result<(), ApiError> {
    let access = access(state, project).await?;
    require(&access, caller, Action::Edit)?;
    let deleted = state.store.delete_file(project, id, caller).await?;
    let deleted = deleted.ok_or(ApiError::NotFound("no such file"))?;
    // Either kind: a file shows in the detail; a video's row takes its version with it.
    let mut scopes = version_scopes(project, &access);
    scopes.push(Scope::Attachments(project.0));
    settle(state, &scopes, deleted.event).await;
    state.objects.delete_or_log(&deleted.value).await;
    Ok(())
}

/// Streams the body into a fresh object and returns the row to record for it.
pub(super) async fn store_object<S, E>(
    state: &AppState,
    name: FileName,
    content_type: MediaType,
    content_length: Option<u64>,
    body: S,
) -> Result<NewFile, ApiError>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Send,
    E: Display,
{
    let objects: &Objects = &state.objects;
    let limit = objects.max_upload_bytes();
    if content_length.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge);
    }
    let key = Objects::new_key();
    let size = objects.upload(&key, body, limit).await.map_err(|error| match error {
        UploadError::TooLarge => ApiError::PayloadTooLarge,
        UploadError::Body(detail) => {
            tracing::info!(%detail, "an upload's body failed");
            ApiError::BadRequest("the upload was interrupted".to_owned())
        }
        UploadError::Store(error) => {
            tracing::error!(%error, key, "the object store refused an upload");
            ApiError::Internal
        }
    })?;
    let size = i64::try_from(size).map_err(|_| ApiError::PayloadTooLarge)?;
    Ok(NewFile { name, content_type, size, storage_key: key })
}

/// A file name as given ([`FileName::parse`]); 422 (field `name`) otherwise.
pub(super) fn valid_name(name: &str) -> Result<FileName, ApiError> {
    FileName::parse(name).map_err(|problem| ApiError::invalid("name", problem))
}

/// A content type ([`MediaType::parse`]); 422 (field `content_type`) otherwise.
fn content_type(value: &str) -> Result<MediaType, ApiError> {
    MediaType::parse(value).map_err(|problem| ApiError::invalid("content_type", problem))
}

/// Removes the objects of a deleted project (their rows are gone): failures are logged with
/// the key for a sweep, never shown to the user.
pub(crate) async fn remove_project_objects(state: &AppState, keys: Vec<String>) {
    if !keys.is_empty() {
        state.objects.delete_all(keys).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_against_the_size() {
        use ByteRange::*;
        use RangeRequest::*;
        let from = |first, last| Some(From { first, last });
        assert_eq!(RangeRequest::resolve(None, 10), Full);
        assert_eq!(RangeRequest::resolve(from(0, Some(0)), 10), Part(0..1));
        assert_eq!(RangeRequest::resolve(from(2, Some(5)), 10), Part(2..6));
        assert_eq!(RangeRequest::resolve(from(2, None), 10), Part(2..10));
        assert_eq!(RangeRequest::resolve(from(5, Some(100)), 10), Part(5..10));
        assert_eq!(RangeRequest::resolve(Some(Suffix(3)), 10), Part(7..10));
        assert_eq!(RangeRequest::resolve(Some(Suffix(30)), 10), Part(0..10));
        assert_eq!(RangeRequest::resolve(from(10, None), 10), Unsatisfiable);
        assert_eq!(RangeRequest::resolve(from(10, Some(20)), 10), Unsatisfiable);
        assert_eq!(RangeRequest::resolve(Some(Suffix(0)), 10), Unsatisfiable);
        assert_eq!(RangeRequest::resolve(from(0, None), 0), Unsatisfiable);
    }
}
