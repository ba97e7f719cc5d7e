//! reelplan's storage seam. The [`Store`] trait speaks the domain, as the sum of capability
//! traits by resource ([`Users`], [`Projects`], [`Members`], [`Feedback`], [`Memos`], [`Files`],
//! [`Admin`]); the PostgreSQL and SQLite crates implement them, each with its own SQL and
//! migrations. Every statement either backend runs goes through [`stats::run`], which counts it
//! for the request, times it and maps its error into [`StoreError`].

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
pub use store::{
    Admin, Feedback, Files, Members, Memos, PageRequest, ProjectFilter, Projects, Store,
    StoreResult, Users,
};

/// The capability traits, for `use reelplan_store::prelude::*;`: a `dyn Store` answers their
/// methods as is, a concrete store (`SqliteStore`, `PgStore`) once they are in scope.
pub mod prelude {
    pub use crate::store::{Admin, Feedback, Files, Members, Memos, Projects, Users};
}
