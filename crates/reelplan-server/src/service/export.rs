//! A version's comments as a file for editing software (CSV, CMX 3600 EDL, FCPXML), formatted
//! by [`reelplan_domain::export`].
//!
//! What an export needs (the access list, the project's name, the version and its comments)
//! is read in one statement and cached as its own document, under the project's thread scope
//! (comments, versions) and its project scope (the name in the file name and title, and every
//! membership change, which moves it on too); a hit renders the file with no statement.
//!
//! Rules where API.md is silent: `?format=` is required (422 otherwise); `?start=` is read at
//! the export's frame rate, so it needs one too (422 without); a CSV without a frame rate has
//! empty `smpte` columns. The file is rendered in memory from the document (its comments are
//! in memory already) and sent in chunks.

use bytes::Bytes;
use reelplan_cache::{Key, Kind, Scope, Want};
use reelplan_domain::export::{
    self, parse_smpte, ExportComment, ExportError, ExportFormat, ExportOptions, ExportVersion,
    FrameRate,
};
use reelplan_domain::{ProjectId, Timestamp, UserId, ValidationErrors, VersionId};
use reelplan_store::ExportRows;
use serde::{Deserialize, Serialize};

use crate::cached::{Doc, Guarded};
use crate::error::ApiError;
use crate::response::to_bytes;
use crate::state::AppState;

/// `?format=&fps=&start=&resolved=`, parsed.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The file's format.
    pub format: ExportFormat,
    /// Overrides the version's frame rate.
    pub fps: Option<FrameRate>,
    /// The timecode of the video's first frame, `HH:MM:SS:FF`.
    pub start: Option<String>,
    /// Only resolved (true) or open (false) comments.
    pub resolved: Option<bool>,
}

/// An export ready to send.
#[derive(Debug)]
pub struct ExportFile {
    /// `<project>-v<number>-comments.<ext>`.
    pub file_name: String,
    /// The format's content type.
    pub content_type: &'static str,
    /// The file, in the chunks the formatter wrote.
    pub chunks: Vec<Bytes>,
}

/// The cached document of an export: what the formatter needs, owned, in a shape that reads
/// back as written.
#[derive(Debug, Serialize, Deserialize)]
struct ExportDoc {
    project_name: String,
    number: u32,
    fps: Option<f64>,
    duration: Option<f64>,
    comments: Vec<ExportedComment>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ExportedComment {
    id: i64,
    parent_id: Option<i64>,
    author: String,
    text: String,
    timecode: Option<f64>,
    timecode_end: Option<f64>,
    resolved: bool,
    created: Timestamp,
}

impl ExportDoc {
    fn of(rows: ExportRows) -> Option<ExportDoc> {
        let version = rows.version?;
        let comments = rows
            .comments
            .into_iter()
            .map(|c| ExportedComment {
                id: c.id.0,
                parent_id: c.parent_id.map(|p| p.0),
                author: c.user.nickname,
                text: c.text,
                timecode: c.timecode,
                timecode_end: c.timecode_end,
                resolved: c.resolved,
                created: c.created,
            })
            .collect();
        Some(ExportDoc {
            project_name: rows.project_name,
            number: u32::try_from(version.number).unwrap_or(u32::MAX),
            fps: version.fps,
            duration: version.duration,
            comments,
        })
    }
}

/// Where the export document of `version` (with the resolution filter) is cached.
fn export_doc_of(project: ProjectId, version: VersionId, resolved: Option<bool>) -> Doc<Guarded> {
    let resolved = resolved.map_or("", |r| if r { "t" } else { "f" });
    let key = Key::with(Kind::Versions, project.0, format!("x:{}:{resolved}", version.0));
    Doc::new(Want::both(key, Scope::Thread(project.0), Scope::Project(project.0)))
}

/// The comments of a version as a file (member). One statement on a miss, none on a hit.
#[tracing::instrument(level = "debug", skip_all, fields(project = project.0))]
pub async fn export(
    state: &AppState,
    caller: UserId,
    project: ProjectId,
    version: VersionId,
    request: Result<ExportRequest, ValidationErrors>,
) -> Result<ExportFile, ApiError> {
    // Who may see it first: a non-member's bad query is a 404 like any other.
    let resolved = request.as_ref().ok().and_then(|r| r.resolved);
    let doc = export_doc_of(project, version, resolved);
    let load = || async {
        let rows = state.store.export_rows(project, version, resolved).await?;
        let rows = rows.ok_or_else(ApiError::no_project)?;
        let access = rows.access.clone();
        match ExportDoc::of(rows) {
            Some(doc) => Ok(Guarded { body: to_bytes(&doc)?, access: access.into() }),
            None if access.role_of(caller).is_some() => Err(ApiError::NotFound("no such version")),
            None => Err(ApiError::no_project()),
        }
    };
    let missing = || state.store.export_rows(project, version, resolved);
    let cached = super::read_guarded(state, caller, &doc, load, missing).await?;
    let request = request?;
    let doc: ExportDoc = serde_json::from_slice(&cached.body).map_err(|error| {
        tracing::error!(%error, "a cached export document does not read back");
        ApiError::Internal
    })?;
    render(&doc, &request)
}

/// The file of `request` from `doc`: 422 for a frame rate or start the request needs and lacks.
fn render(doc: &ExportDoc, request: &ExportRequest) -> Result<ExportFile, ApiError> {
    let fps = request.fps.or_else(|| doc.fps.and_then(|fps| FrameRate::parse(fps).ok()));
    let start_frames = match (&request.start, fps) {
        (None, _) => 0,
        (Some(_), None) => return Err(ApiError::invalid("start", "needs a frame rate (?fps=)")),
        (Some(start), Some(rate)) => {
            parse_smpte(start, rate).map_err(|problem| ApiError::invalid("start", problem))?
        }
    };
    let comments: Vec<ExportComment> = doc
        .comments
        .iter()
        .map(|c| ExportComment {
            id: c.id,
            parent_id: c.parent_id,
            author: &c.author,
            text: &c.text,
            timecode: c.timecode,
            timecode_end: c.timecode_end,
            resolved: c.resolved,
            created: c.created,
        })
        .collect();
    let version = ExportVersion {
        project_name: &doc.project_name,
        number: doc.number,
        fps,
        duration: doc.duration,
    };
    let options = ExportOptions { fps, start_frames };
    let chunks =
        export::export(version, &comments, request.format, options).map_err(|e| match e {
            ExportError::FpsRequired => ApiError::invalid(
                "fps",
                "edl and fcpxml need a frame rate: pass ?fps= or set the version's fps",
            ),
        })?;
    Ok(ExportFile {
        file_name: export::file_name(&doc.project_name, doc.number, request.format),
        content_type: request.format.content_type(),
        chunks: chunks.map(Bytes::from).collect(),
    })
}
