//! reelplan's PostgreSQL store: [`PgStore`] implements [`reelplan_store::Store`] with exactly
//! one SQL statement per method, every read document built in SQL as JSON.
//!
//! The schema lives in `migrations/` and is applied by [`reelplan_store::Admin::migrate`].
//! Each capability trait is implemented in its resource module of [`sql`], next to the text of
//! its statements; the text is public so the EXPLAIN test checks the very text the store runs.

#[macro_use]
mod fragments;
mod pool;
pub mod seed;
pub mod sql;
#[cfg(feature = "testing")]
mod testing;

pub use pool::{connect, PgOptions, PgStore};
#[cfg(feature = "testing")]
pub use testing::{connect_isolated_for_tests, create_isolated_for_tests, TestDatabase};
