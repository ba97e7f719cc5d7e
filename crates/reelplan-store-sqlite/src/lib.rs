//! reelplan's embedded store: SQLite through sqlx, one file under `./data` by default.
//!
//! Every [`Store`](reelplan_store::Store) method runs exactly one SQL statement through
//! [`reelplan_store::stats::run`]. Read documents are assembled in SQL with SQLite's JSON
//! functions (times as integer microseconds) and parsed into the models of
//! [`reelplan_store::model`]; derived columns (`earliest_start_date`, `latest_end_date`,
//! `member_count`) are kept by generated columns and triggers, so no write needs a second
//! statement or a transaction. So is the event log: each write carries its actor on the row it
//! changes and a trigger records its event in the same statement (migration
//! `0011_events.sql`), the write handing the event back with the id the trigger's insert takes.
//!
//! The schema lives in `migrations/` and is applied by [`reelplan_store::Admin::migrate`].
//! Each capability trait is implemented in its resource module of [`sql`], next to the text of
//! its statements; the text is public so the EXPLAIN test checks the very text the store runs.

mod checkpoint;
#[macro_use]
mod fragments;
mod pool;
pub mod seed;
pub mod sql;

pub use pool::SqliteStore;
