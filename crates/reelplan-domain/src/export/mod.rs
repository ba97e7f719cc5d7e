//! A video version's review comments as files for editing software: the body of
//! `GET /api/projects/{id}/versions/{version_id}/comments/export?format=csv|edl|fcpxml`.
//!
//! Pure formatting: the caller loads the version and its comments (already filtered by
//! `?resolved=`), parses `?fps=` with [`FrameRate::parse`] and `?start=` with
//! [`parse_smpte`], and streams the chunks [`export`] yields.
//!
//! - [`ExportFormat::Csv`]: every comment, replies included, one row each, in the order given.
//!   Works without a frame rate; its `smpte` columns are then empty.
//! - [`ExportFormat::Edl`]: a CMX 3600 marker list as DaVinci Resolve reads and writes it.
//! - [`ExportFormat::Fcpxml`]: FCPXML 1.10, one gap clip carrying one marker per comment.
//!
//! The EDL and FCPXML are marker lists, so they hold one marker per top-level comment that
//! has a timecode, in timeline order (ties in the order given). Comments without a timecode
//! have no place on a timeline and are left out, replies included. A reply joins the thread
//! of its top-level comment (found by following `parent_id`, however deep) and is written in
//! that marker's note; a reply whose thread does not reach a top-level comment of the slice
//! is left out. The exact shapes are documented on [`ExportFormat`].
//!
//! Times: a comment at `t` seconds is on frame `floor(t * fps + 1e-6)` ([`frames_at`]),
//! counted from `?start=` ([`ExportOptions::start_frames`]).

mod csv;
mod edl;
mod fcpxml;
pub mod smpte;

use std::collections::HashMap;

pub use smpte::{format_smpte, frames_at, parse_smpte, FrameRate};

use crate::Timestamp;

/// The version whose comments are exported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportVersion<'a> {
    /// The project's name: the EDL title, the FCPXML event name, the file name.
    pub project_name: &'a str,
    /// The version's number (`v3`).
    pub number: u32,
    /// The version's own frame rate, used when the request names none.
    pub fps: Option<FrameRate>,
    /// The video's length in seconds, when known: the length of the FCPXML clip, rounded up
    /// to whole frames. Without it the clip ends one second (the nominal rate's frames)
    /// after the end of the last marker; either way it is stretched to hold every marker.
    pub duration: Option<f64>,
}

/// One comment of the version, a top-level comment or a reply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportComment<'a> {
    /// The comment's id.
    pub id: i64,
    /// The comment it answers; `None` for a top-level comment.
    pub parent_id: Option<i64>,
    /// Who wrote it, as it should read in the file (a nickname, or an email).
    pub author: &'a str,
    /// What it says, unaltered.
    pub text: &'a str,
    /// Where in the video it points, in seconds.
    pub timecode: Option<f64>,
    /// Where the range it points at ends, in seconds.
    pub timecode_end: Option<f64>,
    /// Whether it was marked resolved.
    pub resolved: bool,
    /// When it was written.
    pub created: Timestamp,
}

/// The file formats of `?format=`.
///
/// - `csv`: header `id,version,timecode,timecode_end,smpte,smpte_end,author,text,resolved,created`,
///   RFC 4180 (a field with `,` `"` CR or LF is quoted, quotes doubled), CRLF line ends,
///   UTF-8 without BOM. `timecode` columns are plain seconds (`12.5`, `61`), `smpte` columns the
///   label at the export's rate from `?start=`, `resolved` is `true`/`false`, `created` is
///   RFC 3339 UTC with `Z` (fraction only when non-zero, as in the JSON API). Texts are
///   written as they are, with no guard against spreadsheet formulas.
/// - `edl`: `TITLE: <project> v<number>` (one line, at most 70 characters), `FCM: DROP FRAME`
///   or `FCM: NON-DROP FRAME`, then per marker a blank line, the event line
///   `NNN  001      V     C        IN OUT IN OUT  ` (IN the marker's frame, OUT one frame
///   later, numbers of three digits or more) and the line ` |C:<colour> |M:<name> |D:<frames>`,
///   CRLF line ends. The colour is `ResolveColorGreen` for a resolved comment and
///   `ResolveColorBlue` otherwise. The name is the comment's text followed by each reply as
///   ` — <author>: <text>` (em dash), oldest first, on one line: CR, LF, CRLF and tab become a
///   space, other control characters are dropped and `|` (the field separator) becomes `/`.
///   `|D:` is the range's length in frames (`timecode_end` frame minus `timecode` frame),
///   at least 1.
/// - `fcpxml`: FCPXML 1.10 with one `format` (1920×1080, a stand-in: a marker list has no
///   picture) and a sequence (`tcStart` = `?start=`, `tcFormat` `DF` or `NDF`) holding one
///   `gap` clip as long as the version (see [`ExportVersion::duration`]). Markers are to-do
///   markers (`completed="1"` when resolved, `"0"` otherwise) whose `value` is the text, line
///   breaks kept, and whose `note`, present only with replies, is each reply as
///   `<author>: <text>`, joined by a line feed. Times are whole frames in the rate's time
///   base: `start="3003/30000s"`, `duration="1001/30000s"` (the range's length, at least 1).
///
/// Deserialises from the wire name, so a query struct can hold it directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum ExportFormat {
    /// Comma-separated values, for spreadsheets.
    Csv,
    /// A CMX 3600 marker list (DaVinci Resolve: Timeline > Import > Timeline Markers from EDL).
    Edl,
    /// Final Cut Pro XML 1.10 (File > Import > XML; DaVinci Resolve reads it too).
    Fcpxml,
}

impl ExportFormat {
    /// The wire name: exactly `csv`, `edl` or `fcpxml`.
    pub fn parse(name: &str) -> Result<ExportFormat, &'static str> {
        match name {
            "csv" => Ok(ExportFormat::Csv),
            "edl" => Ok(ExportFormat::Edl),
            "fcpxml" => Ok(ExportFormat::Fcpxml),
            _ => Err("must be csv, edl or fcpxml"),
        }
    }

    /// The file extension, without the dot; also the wire name.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Edl => "edl",
            ExportFormat::Fcpxml => "fcpxml",
        }
    }

    /// The `Content-Type` of the response. An EDL is plain text (`text/plain; charset=utf-8`),
    /// so a browser shows it and the charset of non-ASCII marker names is declared.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Edl => "text/plain; charset=utf-8",
            ExportFormat::Fcpxml => "application/xml",
        }
    }
}

impl TryFrom<String> for ExportFormat {
    type Error = &'static str;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        ExportFormat::parse(&name)
    }
}

/// The request's overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportOptions {
    /// `?fps=`: replaces the version's frame rate.
    pub fps: Option<FrameRate>,
    /// `?start=` as a frame count at the export's rate ([`parse_smpte`]); 0 by default.
    /// Added to every comment's frame. Unused when there is no rate.
    pub start_frames: u64,
}

/// Why an export cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// An EDL or FCPXML was asked for, and neither the request nor the version names a
    /// frame rate (the API answers 422).
    #[error("this format needs a frame rate: pass ?fps= or set the version's fps")]
    FpsRequired,
}

/// The file's pieces, in order: the head, one chunk per row or marker, the tail. Joined,
/// they are the file; yielded one by one, they let the server stream it.
pub struct Chunks<'a>(Box<dyn Iterator<Item = String> + Send + 'a>);

impl Iterator for Chunks<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        self.0.next()
    }
}

impl std::fmt::Debug for Chunks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Chunks")
    }
}

/// The comments of `version` as a file of `format`, in chunks.
///
/// `comments` are the version's comments (oldest first, replies anywhere in the slice).
/// The frame rate is `options.fps`, else `version.fps`; without either an EDL or FCPXML is
/// [`ExportError::FpsRequired`].
pub fn export<'a>(
    version: ExportVersion<'a>,
    comments: &'a [ExportComment<'a>],
    format: ExportFormat,
    options: ExportOptions,
) -> Result<Chunks<'a>, ExportError> {
    let fps = options.fps.or(version.fps);
    let start = options.start_frames;
    let chunks: Box<dyn Iterator<Item = String> + Send + 'a> = match (format, fps) {
        (ExportFormat::Csv, fps) => Box::new(csv::chunks(version, comments, fps, start)),
        (ExportFormat::Edl, Some(fps)) => Box::new(edl::chunks(version, comments, fps, start)),
        (ExportFormat::Fcpxml, Some(fps)) => {
            Box::new(fcpxml::chunks(version, comments, fps, start))
        }
        (ExportFormat::Edl | ExportFormat::Fcpxml, None) => return Err(ExportError::FpsRequired),
    };
    Ok(Chunks(chunks))
}

/// The download's name: `<project>-v<number>-comments.<ext>`.
///
/// The project's name is made safe for every file system and for `Content-Disposition`:
/// characters other than `A-Z a-z 0-9 . _ -` become `-`, runs of `-` become one, leading
/// `-` and `.` (a hidden file) and trailing `-` are trimmed, at most 80 characters are kept,
/// and a name with nothing left is `project`.
pub fn file_name(project_name: &str, version_number: u32, format: ExportFormat) -> String {
    let mut safe = String::with_capacity(project_name.len());
    for c in project_name.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' };
        if !(c == '-' && safe.ends_with('-')) {
            safe.push(c);
        }
    }
    let safe = safe.trim_start_matches(['-', '.']);
    // Only ASCII is left, so 80 bytes are 80 characters.
    let safe = safe[..safe.len().min(80)].trim_end_matches('-');
    let safe = if safe.is_empty() { "project" } else { safe };
    format!("{safe}-v{version_number}-comments.{}", format.extension())
}

/// A top-level comment placed on the timeline, with its thread.
struct Marker<'a> {
    /// The top-level comment.
    comment: &'a ExportComment<'a>,
    /// Its frame, `?start=` included.
    frame: u64,
    /// Its length in frames: the range's, at least 1.
    length: u64,
    /// Its replies, in the order given.
    replies: Vec<&'a ExportComment<'a>>,
}

/// The markers of an EDL or FCPXML: the top-level comments with a timecode and their
/// threads, in timeline order (a stable sort, so ties keep the order given).
fn markers<'a>(comments: &'a [ExportComment<'a>], fps: FrameRate, start: u64) -> Vec<Marker<'a>> {
    let by_id: HashMap<i64, &ExportComment> = comments.iter().map(|c| (c.id, c)).collect();
    // The top-level comment a reply's thread starts from. The walk is bounded so that a
    // cycle of parent ids (which the store should never hold) cannot hang the export.
    let root_of = |reply: &ExportComment| {
        let mut at = reply;
        for _ in 0..comments.len() {
            match at.parent_id {
                None => return Some(at.id),
                Some(parent) => at = by_id.get(&parent)?,
            }
        }
        None
    };
    let mut threads: HashMap<i64, Vec<&ExportComment>> = HashMap::new();
    for reply in comments.iter().filter(|c| c.parent_id.is_some()) {
        if let Some(root) = root_of(reply) {
            threads.entry(root).or_default().push(reply);
        }
    }
    let mut markers: Vec<Marker> = comments
        .iter()
        .filter(|c| c.parent_id.is_none())
        .filter_map(|comment| {
            let at = frames_at(comment.timecode?, fps);
            let end = comment.timecode_end.map_or(at, |end| frames_at(end, fps));
            Some(Marker {
                comment,
                frame: start.saturating_add(at),
                length: end.saturating_sub(at).max(1),
                replies: threads.get(&comment.id).cloned().unwrap_or_default(),
            })
        })
        .collect();
    markers.sort_by_key(|marker| marker.frame);
    markers
}
