//! In-process generations and tombstones, for the embedded default (no Redis).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{Scope, Tag, Want};

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

    /// A multiplicative hash of the scope: cheap, and spreads consecutive ids over stripes.
    fn stripe(&self, scope: Scope) -> &AtomicU64 {
        let (kind, id) = match scope {
            Scope::User(id) => (1u64, id),
            Scope::Memberships(id) => (2, id),
            Scope::Lists(id) => (3, id),
            Scope::Project(id) => (4, id),
            Scope::Thread(id) => (5, id),
            Scope::Access(id) => (6, id),
            Scope::Attachments(id) => (7, id),
            Scope::Activity(id) => (8, id),
        };
        let hash = ((id as u64) ^ (kind << 58)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        &self.stripes[(hash >> 48) as usize % STRIPES]
    }

    pub(crate) fn tag(&self, want: &Want) -> Tag {
        Tag::new(self.epoch, want.scopes().map(|s| self.stripe(s).load(Ordering::Acquire)))
    }

    pub(crate) fn bump(&self, scopes: &[Scope]) {
        for scope in scopes {
            self.stripe(*scope).fetch_add(1, Ordering::AcqRel);
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
        use crate::{Key, Kind};
        let gens = LocalGenerations::new();
        let want = |id| Want::new(Key::new(Kind::ProjectDetail, id), Scope::Project(id));
        let (a0, b0) = (gens.tag(&want(1)), gens.tag(&want(2)));
        gens.bump(&[Scope::Project(1)]);
        assert_ne!(gens.tag(&want(1)), a0);
        assert_eq!(gens.tag(&want(2)), b0);
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
