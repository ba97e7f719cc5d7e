//! In-process generations and tombstones, for the embedded default (no Redis).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const STRIPES: usize = 1 << 16;

/// Generations in a fixed array of counters indexed by the scope's hash. Two scopes sharing a
/// stripe only invalidate each other needlessly; a counter never goes back, so nothing stale can
/// match, and memory stays at 512 KiB whatever the number of users and projects.
pub(crate) struct LocalGenerations {
    epoch: u64,
    stripes: Box<[AtomicU64]>,
}

impl LocalGenerations {
    pub(crate) fn new() -> Self {
        let stripes = (0..STRIPES).map(|_| AtomicU64::new(0)).collect();
        LocalGenerations { epoch: rand::random(), stripes }
    }

    fn stripe(&self, key: &str) -> &AtomicU64 {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        &self.stripes[hasher.finish() as usize % STRIPES]
    }

    pub(crate) fn view(&self, keys: &[String]) -> String {
        let mut view = format!("{:x}", self.epoch);
        for key in keys {
            view.push('.');
            view.push_str(&self.stripe(key).load(Ordering::Acquire).to_string());
        }
        view
    }

    pub(crate) fn bump(&self, keys: &[String]) {
        for key in keys {
            self.stripe(key).fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// Recently deleted projects, kept as long as a list holding them could live.
pub(crate) struct Tombstones {
    keep: Duration,
    buried: Mutex<HashMap<i64, Instant>>,
}

impl Tombstones {
    pub(crate) fn new(keep: Duration) -> Self {
        Tombstones { keep, buried: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn bury(&self, ids: &[i64]) {
        let now = Instant::now();
        let mut buried = self.buried.lock().unwrap_or_else(|e| e.into_inner());
        buried.retain(|_, at| now.duration_since(*at) < self.keep);
        buried.extend(ids.iter().map(|id| (*id, now)));
    }

    pub(crate) fn any_buried(&self, ids: &[i64]) -> bool {
        let buried = self.buried.lock().unwrap_or_else(|e| e.into_inner());
        !buried.is_empty() && ids.iter().any(|id| buried.contains_key(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bump_changes_the_view_of_that_scope_only_and_never_back() {
        let gens = LocalGenerations::new();
        let (a, b) = (vec!["p:1".to_owned()], vec!["p:2".to_owned()]);
        let (a0, b0) = (gens.view(&a), gens.view(&b));
        gens.bump(&a);
        assert_ne!(gens.view(&a), a0);
        assert_eq!(gens.view(&b), b0);
    }

    #[test]
    fn tombstones_answer_until_they_expire() {
        let stones = Tombstones::new(Duration::from_secs(60));
        stones.bury(&[7]);
        assert!(stones.any_buried(&[1, 7]));
        assert!(!stones.any_buried(&[1, 2]));
        let gone = Tombstones::new(Duration::ZERO);
        gone.bury(&[7]);
        gone.bury(&[8]);
        assert!(!gone.buried.lock().unwrap().contains_key(&7));
    }
}
