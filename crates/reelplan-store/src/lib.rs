//! reelplan's storage seam. The [`Store`] trait speaks the domain; the PostgreSQL and SQLite
//! crates implement it, each with its own SQL and migrations. Every statement either backend
//! runs goes through [`stats::run`], which counts it for the request, times it and maps its
//! error into [`StoreError`].

pub mod bulk;
#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
pub mod files;
pub mod model;
pub mod stats;
mod store;

pub use error::StoreError;
pub use files::{FileAccess, NewFile, StoredFile, VideoReplaced};
pub use model::*;
pub use store::{PageRequest, ProjectFilter, Store, StoreResult};
