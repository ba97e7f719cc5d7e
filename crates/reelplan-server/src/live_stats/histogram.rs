//! A fixed-size log-linear latency histogram: four buckets per power of two of microseconds,
//! from 1 µs to about nine minutes. Histograms add up, so seconds merge into any window.

/// Buckets: 4 exact ones below 4 µs, then 4 per power of two up to 2^29 µs.
const BUCKETS: usize = 112;

/// Latency counts per log-linear bucket.
#[derive(Clone)]
pub struct Histogram {
    counts: [u32; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: [0; BUCKETS] }
    }
}

fn index(micros: u64) -> usize {
    if micros < 4 {
        return micros as usize;
    }
    let log2 = 63 - u64::from(micros.leading_zeros());
    let sub = (micros >> (log2 - 2)) & 3;
    ((4 * (log2 - 1) + sub) as usize).min(BUCKETS - 1)
}

/// The smallest value that lands in bucket `i`.
fn lower(i: usize) -> u64 {
    if i < 4 {
        return i as u64;
    }
    let log2 = i as u64 / 4 + 1;
    (4 + i as u64 % 4) << (log2 - 2)
}

impl Histogram {
    /// Counts one value, in microseconds.
    pub fn record(&mut self, micros: u64) {
        let i = index(micros);
        self.counts[i] = self.counts[i].saturating_add(1);
    }

    /// Adds another histogram's counts to this one.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine = mine.saturating_add(*theirs);
        }
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// The `q` quantile (0..=1) in microseconds: the middle of the bucket holding it.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &count) in self.counts.iter().enumerate() {
            seen += u64::from(count);
            if seen >= rank {
                let (low, high) = (lower(i), lower(i + 1));
                return Some(if i < 4 { low as f64 } else { (low + high) as f64 / 2.0 });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_ordered() {
        for micros in 1..100_000u64 {
            let i = index(micros);
            assert!(lower(i) <= micros && micros < lower(i + 1), "{micros} in bucket {i}");
        }
    }

    #[test]
    fn quantiles_are_within_an_eighth() {
        let mut h = Histogram::default();
        for ms in 1..=100u64 {
            h.record(ms * 1000);
        }
        for (q, want) in [(0.5, 50_000.0), (0.95, 95_000.0), (0.99, 99_000.0)] {
            let got = h.quantile(q).unwrap();
            assert!((got - want).abs() / want < 0.125, "q{q}: {got} vs {want}");
        }
        assert_eq!(Histogram::default().quantile(0.5), None);
    }
}
