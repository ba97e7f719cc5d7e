//! Models of stored files (project files and the videos of versions) that only the storage and
//! service layers see: the row to write once an object is complete, and a row with the
//! object's storage key, which never reaches a client.

use reelplan_domain::{FileName, MediaType};
use serde::Deserialize;

use crate::model::{FileMeta, ProjectAccess};

/// A file whose bytes are already complete in the object store, ready to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    /// The name given at upload, shown to members and used for downloads.
    pub name: FileName,
    /// The content type the bytes are served with.
    pub content_type: MediaType,
    /// Size in bytes, as counted while streaming.
    pub size: i64,
    /// The object's opaque key in the object store.
    pub storage_key: String,
}

/// A file row: what clients see, plus where its bytes are.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredFile {
    /// The metadata of the contract's `file`.
    pub meta: FileMeta,
    /// The object's key in the object store.
    pub storage_key: String,
}

/// The access list of a project and one of its files, read in one statement so that a
/// download (a video player seeks with many range requests) costs one statement.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FileAccess {
    /// Who may read the file.
    pub access: ProjectAccess,
    /// The file (either kind), or None when the project has no such file.
    pub file: Option<StoredFile>,
}
