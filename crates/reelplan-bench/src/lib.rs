//! reelplan's benchmark tooling: the reference datasets of `BENCHMARK.md` (a pure,
//! deterministic generator), `reelplan seed` (hashing and bulk loading through
//! [`reelplan_store::bulk::BulkLoad`]), `reelplan loadtest` (the load mix over HTTP, with the
//! original design's success metrics) and `reelplan streams` (live-update stream capacity and
//! cross-instance event delay).

pub mod dataset;
pub mod duration;
pub mod loadtest;
pub mod passwords;
pub mod seed;
pub mod streams;

pub use dataset::{DatasetSize, Generator};
pub use loadtest::{LoadtestOptions, Report};
pub use seed::{SeedOptions, SeedReport};
pub use streams::{StreamsOptions, StreamsReport};
