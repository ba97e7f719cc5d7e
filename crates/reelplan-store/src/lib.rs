//! reelplan's storage seam. The [`Store`] trait speaks the domain, as the sum of capability
//! traits by resource ([`Users`], [`Projects`], [`Members`], [`Feedback`], [`Versions`], [`Memos`], [`Files`],
//! [`Events`], [`Admin`]); the PostgreSQL and SQLite crates implement them, each with its own SQL and
//! migrations. Every statement either backend runs goes through [`stats::run`], which counts it
//! for the request, times it and maps its error into [`StoreError`].

pub mod bulk;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod documents;
mod error;
pub mod events;
pub mod files;
pub mod model;
mod review;
pub mod stats;
mod store;

pub use error::StoreError;
pub use events::{Event, Recorded, StreamStart};
pub use files::{FileAccess, NewFile, StoredFile};
pub use model::*;
pub use review::{
    Approval, ExportRows, ExportedVersion, NewReview, NewVersion, Review, ReviewSummary,
    ReviewSummaryStatus, Version, VersionAccess, VersionPatch,
};
pub use store::{
    Admin, Events, Feedback, Files, Members, Memos, PageRequest, ProjectFilter, Projects, Store,
    StoreResult, Users, Versions,
};

#[cfg(feature = "testing")]
pub use store::Inspect;

/// The capability traits, for `use reelplan_store::prelude::*;`: a `dyn Store` answers their
/// methods as is, a concrete store (`SqliteStore`, `PgStore`) once they are in scope.
pub mod prelude {
    #[cfg(feature = "testing")]
    pub use crate::store::Inspect;
    pub use crate::store::{
        Admin, Events, Feedback, Files, Members, Memos, Projects, Users, Versions,
    };
}

/// Expands to its items when this crate's `testing` feature is on, and to nothing otherwise. The
/// backends wrap their [`Inspect`](crate::Inspect) impls in it: `Store` requires `Inspect` exactly
/// when the feature is on, so each impl must follow this crate's feature, not the backend's.
#[cfg(feature = "testing")]
#[macro_export]
macro_rules! testing_only {
    ($($item:item)*) => { $($item)* };
}

/// Expands to its items when this crate's `testing` feature is on, and to nothing otherwise (it
/// is off here). The backends wrap their `Inspect` impls in it.
#[cfg(not(feature = "testing"))]
#[macro_export]
macro_rules! testing_only {
    ($($item:item)*) => {};
}
