//! The load mixes of `BENCHMARK.md`: the default mix (six request kinds with their shares) and
//! the read-only companion (its three reads, same proportions, no writes).

use rand::Rng;
use serde::Serialize;

/// A kind of request the load test sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// List my projects (first page).
    List,
    /// Detail of one of my projects.
    Detail,
    /// First page of comments of one of my projects.
    Comments,
    /// Post a comment on one of my projects.
    PostComment,
    /// Update one phase's dates of a project I manage.
    SetPhase,
    /// Add or remove a member of a project I manage.
    Member,
    /// Not in the mix: the read after each write that checks it is visible.
    ReadBack,
}

impl Kind {
    /// The six kinds of the mix, in `BENCHMARK.md`'s order.
    pub const MIX: [Kind; 6] =
        [Kind::List, Kind::Detail, Kind::Comments, Kind::PostComment, Kind::SetPhase, Kind::Member];

    /// Share of the mix, in percent.
    pub fn percent(self) -> u32 {
        match self {
            Kind::List => 55,
            Kind::Detail => 25,
            Kind::Comments => 10,
            Kind::PostComment => 5,
            Kind::SetPhase => 3,
            Kind::Member => 2,
            Kind::ReadBack => 0,
        }
    }

    /// Whether it writes (and so is followed by a read-back).
    pub fn is_write(self) -> bool {
        matches!(self, Kind::PostComment | Kind::SetPhase | Kind::Member)
    }

    /// The short name used in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kind::List => "list",
            Kind::Detail => "detail",
            Kind::Comments => "comments",
            Kind::PostComment => "post_comment",
            Kind::SetPhase => "set_phase",
            Kind::Member => "member",
            Kind::ReadBack => "read_back",
        }
    }

    /// Draws a kind with the mix's shares.
    pub fn pick(rng: &mut impl Rng) -> Kind {
        let mut roll = rng.random_range(0..100);
        for kind in Kind::MIX {
            if roll < kind.percent() {
                return kind;
            }
            roll -= kind.percent();
        }
        Kind::List
    }
}

/// Which of `BENCHMARK.md`'s mixes the load test sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mix {
    /// The six kinds of the mix (55 : 25 : 10 : 5 : 3 : 2), writes read back.
    #[default]
    Default,
    /// Only the three reads, in the same proportions (55 : 25 : 10): the hit path's ceiling.
    ReadOnly,
}

impl Mix {
    /// The kinds this mix draws from.
    pub fn kinds(self) -> &'static [Kind] {
        match self {
            Mix::Default => &Kind::MIX,
            Mix::ReadOnly => &Kind::MIX[..3],
        }
    }

    /// The name used in the report and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Mix::Default => "default",
            Mix::ReadOnly => "read-only",
        }
    }

    /// Draws a kind of this mix, with the shares of its kinds.
    pub fn pick(self, rng: &mut impl Rng) -> Kind {
        let kinds = self.kinds();
        let total: u32 = kinds.iter().map(|k| k.percent()).sum();
        let mut roll = rng.random_range(0..total);
        for &kind in kinds {
            if roll < kind.percent() {
                return kind;
            }
            roll -= kind.percent();
        }
        Kind::List
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn shares_add_up_and_pick_follows_them() {
        assert_eq!(Kind::MIX.iter().map(|k| k.percent()).sum::<u32>(), 100);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let n = 100_000;
        let lists = (0..n).filter(|_| Kind::pick(&mut rng) == Kind::List).count();
        assert!((lists as f64 / f64::from(n) - 0.55).abs() < 0.01);
    }

    #[test]
    fn read_only_picks_only_reads_in_the_mix_proportions() {
        assert_eq!(Mix::ReadOnly.kinds(), &[Kind::List, Kind::Detail, Kind::Comments]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let n = 90_000;
        let mut counts = std::collections::HashMap::new();
        for _ in 0..n {
            let kind = Mix::ReadOnly.pick(&mut rng);
            assert!(!kind.is_write(), "read-only drew a write: {kind:?}");
            *counts.entry(kind).or_insert(0_u32) += 1;
        }
        assert_eq!(counts.len(), 3);
        for (kind, expected) in [(Kind::List, 55.0), (Kind::Detail, 25.0), (Kind::Comments, 10.0)] {
            let share = f64::from(counts[&kind]) / f64::from(n);
            assert!((share - expected / 90.0).abs() < 0.01, "{kind:?}: {share}");
        }
    }

    #[test]
    fn default_mix_picks_like_kind_pick() {
        let (mut a, mut b) =
            (rand::rngs::StdRng::seed_from_u64(3), rand::rngs::StdRng::seed_from_u64(3));
        for _ in 0..1_000 {
            assert_eq!(Mix::Default.pick(&mut a), Kind::pick(&mut b));
        }
    }
}
