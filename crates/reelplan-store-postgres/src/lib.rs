//! reelplan's PostgreSQL store: [`PgStore`] implements [`reelplan_store::Store`] with exactly
//! one SQL statement per method, every read document built in SQL as JSON.
//!
//! The schema lives in `migrations/` and is applied by [`reelplan_store::Store::migrate`].
//! The statements' text is public in [`sql`] so the EXPLAIN test checks the very text the
//! store runs.

mod pool;
pub mod seed;
pub mod sql;
mod store_impl;
mod testing;

pub use pool::{connect, PgOptions, PgStore};
pub use testing::{connect_isolated_for_tests, TestDatabase};
