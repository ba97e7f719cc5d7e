//! The sweep: removes objects that no file row names, once they are old enough that no upload
//! can still be about to record them.
//!
//! Deletes remove their objects after their rows are gone, so an object outlives its row only
//! when that removal failed (logged "left for a sweep") or the process stopped in between. An
//! upload writes its object first and its row right after, so a young object without a row is
//! normal: only objects older than [`SweepConfig::min_age`] (default an hour) are removed.
//! `reelplan sweep` runs it once; `serve` runs it every [`SweepConfig::interval`]. Several
//! instances sweeping at once is harmless: removing a removed object is a no-op.

use std::time::{Duration, SystemTime};

use futures::TryStreamExt;
use reelplan_store::Store;

use crate::config::SweepConfig;
use crate::objects::Objects;

/// Objects asked about in one statement.
const BATCH: usize = 500;

/// What one sweep found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Objects old enough to be looked at.
    pub examined: u64,
    /// Of those, objects no row named, now removed.
    pub removed: u64,
    /// Objects no row named that could not be removed (logged; the next sweep tries again).
    pub failed: u64,
}

/// Lists the store and removes every object older than `min_age` that no file row names.
pub async fn sweep(
    store: &dyn Store,
    objects: &Objects,
    min_age: Duration,
) -> anyhow::Result<SweepReport> {
    let cutoff = SystemTime::now() - min_age;
    let mut listing = std::pin::pin!(objects.listing());
    let mut report = SweepReport::default();
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let listed_all = match listing.try_next().await? {
            Some((key, modified)) => {
                if modified <= cutoff {
                    batch.push(key);
                }
                false
            }
            None => true,
        };
        if batch.len() == BATCH || (listed_all && !batch.is_empty()) {
            report.examined += batch.len() as u64;
            let named = store.named_storage_keys(&batch).await?;
            batch.retain(|key| !named.contains(key));
            for key in batch.drain(..) {
                match objects.delete(&key).await {
                    Ok(()) => report.removed += 1,
                    Err(error) => {
                        report.failed += 1;
                        tracing::warn!(key, %error, "the sweep could not remove an object");
                    }
                }
            }
        }
        if listed_all {
            return Ok(report);
        }
    }
}

/// Runs [`sweep`] every `config.interval` (never when zero) for as long as the process lives,
/// logging what each removed.
pub fn spawn_periodic(
    store: std::sync::Arc<dyn Store>,
    objects: Objects,
    config: SweepConfig,
) -> Option<tokio::task::JoinHandle<()>> {
    if config.interval.is_zero() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(config.interval);
        ticks.tick().await; // the first tick is immediate: let a fresh process settle first
        loop {
            ticks.tick().await;
            match sweep(&*store, &objects, config.min_age).await {
                Ok(report) if report.removed + report.failed > 0 => {
                    tracing::info!(?report, "swept objects no row names");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the sweep failed; it runs again later"),
            }
        }
    }))
}
