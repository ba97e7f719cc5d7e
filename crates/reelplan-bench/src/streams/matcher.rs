//! Matching timed writes to their events: each acknowledged write is keyed by the event it
//! causes (`type` and `object_id`), each event read on a stream is looked up by the same key,
//! and the delay from the write's 2xx to the event's arrival is recorded per stream that shows
//! it. An event may be read before its write's 2xx (the server publishes before it answers, and
//! the answer and the event travel different ways): it waits until the write is acknowledged
//! and counts as a delay of zero. Events of writes this tool did not make (the load mix's) wait
//! the same way until [`Matcher::prune`] forgets them.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use reelplan_domain::EventType;
use serde::Serialize;

/// What an event is matched by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// The event's `type`.
    pub kind: EventType,
    /// The event's `object_id` (for a comment, the comment's id).
    pub object_id: i64,
}

/// An event read on one stream.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// Which stream (an index of this run's streams).
    pub stream: usize,
    /// Whose stream it is.
    pub user: u32,
    /// When its frame was read.
    pub at: Instant,
}

/// A write acknowledged: by whom, and when it was sent and answered.
#[derive(Debug, Clone, Copy)]
pub struct Acked {
    /// Who wrote.
    pub writer: u32,
    /// The writer's own streams open when the write was acknowledged: each must show it.
    pub expected: usize,
    /// When the request was sent.
    pub sent: Instant,
    /// When its 2xx arrived.
    pub acked: Instant,
}

#[derive(Debug)]
struct Write {
    acked: Acked,
    own_seen: usize,
    seen: HashSet<usize>,
    first: Option<Instant>,
    last: Option<Instant>,
}
/// The writes, the events read, and the delays between them.
#[derive(Debug)]
pub struct Matcher {
    writes: HashMap<Key, Write>,
    early: HashMap<Key, Vec<Arrival>>,
    every: Histogram<u64>,
    before_ack: u64,
    duplicates: u64,
}

impl Default for Matcher {
    fn default() -> Self {
        Matcher {
            writes: HashMap::new(),
            early: HashMap::new(),
            every: histogram(),
            before_ack: 0,
            duplicates: 0,
        }
    }
}

/// Microseconds, 1 us to 10 min, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds")
}

fn micros(delay: Duration) -> u64 {
    u64::try_from(delay.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// Percentiles of a delay, milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Delays recorded.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Maximum.
    pub max_ms: f64,
}

impl Percentiles {
    /// The percentiles of `h` (microseconds).
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        Percentiles {
            count: h.len(),
            p50_ms: ms(0.50),
            p90_ms: ms(0.90),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
            max_ms: h.max() as f64 / 1000.0,
        }
    }
}

/// One of the slowest writes to reach a stream, milliseconds from its send.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowWrite {
    /// The event's `object_id`.
    pub object_id: i64,
    /// Send to 2xx.
    pub acked_ms: f64,
    /// Send to the first delivery.
    pub first_ms: f64,
    /// Send to the last delivery.
    pub last_ms: f64,
    /// Streams that showed it.
    pub deliveries: usize,
}

/// How many of the slowest writes the summary lists.
const SLOWEST: usize = 10;

fn millis(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64() * 1000.0
}

/// What the matching found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Deliveries {
    /// Acknowledged writes.
    pub writes: u64,
    /// Events of those writes read, one per stream that showed one.
    pub deliveries: u64,
    /// Deliveries due to the writers' own streams (open when the write was acknowledged).
    pub own_expected: u64,
    /// Of which never read.
    pub own_missed: u64,
    /// Writes whose event no stream showed.
    pub unseen_writes: u64,
    /// Deliveries read before their write's 2xx (counted as a delay of zero).
    pub before_ack: u64,
    /// A second copy of an event on one stream (never expected).
    pub duplicates: u64,
    /// Delay from a write's 2xx to its event, over every delivery.
    pub every: Percentiles,
    /// Delay from a write's 2xx to its event's first delivery, one per write.
    pub first: Percentiles,
    /// Delay from a write's send (not its 2xx) to its event's first delivery, one per write:
    /// the whole way, for events that arrive before the 2xx.
    pub first_from_send: Percentiles,
    /// The writes whose first delivery came latest after their 2xx, slowest first.
    pub slowest: Vec<SlowWrite>,
}

impl Matcher {
    /// A write acknowledged; the events read for it meanwhile are counted now.
    pub fn acked(&mut self, key: Key, acked: Acked) {
        let write = Write { acked, own_seen: 0, seen: HashSet::new(), first: None, last: None };
        self.writes.insert(key, write);
        for arrival in self.early.remove(&key).unwrap_or_default() {
            self.record(key, arrival);
        }
    }

    /// An event read on a stream.
    pub fn arrived(&mut self, key: Key, arrival: Arrival) {
        if self.writes.contains_key(&key) {
            self.record(key, arrival);
        } else {
            self.early.entry(key).or_default().push(arrival);
        }
    }

    fn record(&mut self, key: Key, arrival: Arrival) {
        let Some(write) = self.writes.get_mut(&key) else { return };
        if !write.seen.insert(arrival.stream) {
            self.duplicates += 1;
            return;
        }
        if arrival.at < write.acked.acked {
            self.before_ack += 1;
        }
        self.every
            .saturating_record(micros(arrival.at.saturating_duration_since(write.acked.acked)));
        write.first = Some(write.first.map_or(arrival.at, |first| first.min(arrival.at)));
        write.last = Some(write.last.map_or(arrival.at, |last| last.max(arrival.at)));
        if arrival.user == write.acked.writer {
            write.own_seen += 1;
        }
    }

    /// Forgets the events read before `before` that no write claimed (other clients' writes).
    pub fn prune(&mut self, before: Instant) {
        self.early.retain(|_, arrivals| {
            arrivals.retain(|a| a.at >= before);
            !arrivals.is_empty()
        });
    }

    /// Deliveries to the writers' own streams not read yet.
    pub fn outstanding(&self) -> usize {
        self.writes.values().map(|w| w.acked.expected.saturating_sub(w.own_seen)).sum()
    }

    /// The figures so far.
    pub fn summary(&self) -> Deliveries {
        let (mut first, mut first_from_send) = (histogram(), histogram());
        let mut slowest = Vec::new();
        for (key, write) in &self.writes {
            let (Some(at), Some(last)) = (write.first, write.last) else { continue };
            let Acked { sent, acked, .. } = write.acked;
            first.saturating_record(micros(at.saturating_duration_since(acked)));
            first_from_send.saturating_record(micros(at.saturating_duration_since(sent)));
            let slow = SlowWrite {
                object_id: key.object_id,
                acked_ms: millis(sent, acked),
                first_ms: millis(sent, at),
                last_ms: millis(sent, last),
                deliveries: write.seen.len(),
            };
            slowest.push((at.saturating_duration_since(acked), slow));
        }
        slowest.sort_by_key(|(delay, _)| std::cmp::Reverse(*delay));
        slowest.truncate(SLOWEST);
        let sum = |f: fn(&Write) -> usize| self.writes.values().map(f).sum::<usize>() as u64;
        Deliveries {
            writes: self.writes.len() as u64,
            deliveries: self.every.len(),
            own_expected: sum(|w| w.acked.expected),
            own_missed: sum(|w| w.acked.expected.saturating_sub(w.own_seen)),
            unseen_writes: sum(|w| usize::from(w.seen.is_empty())),
            before_ack: self.before_ack,
            duplicates: self.duplicates,
            every: Percentiles::of(&self.every),
            first: Percentiles::of(&first),
            first_from_send: Percentiles::of(&first_from_send),
            slowest: slowest.into_iter().map(|(_, slow)| slow).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(object_id: i64) -> Key {
        Key { kind: EventType::CommentCreated, object_id }
    }

    fn at(t0: Instant, ms: u64, stream: usize, user: u32) -> Arrival {
        Arrival { stream, user, at: t0 + Duration::from_millis(ms) }
    }

    /// A write by `writer`, holding `expected` streams, sent at `t0` and acknowledged `ms` later.
    fn acked(t0: Instant, ms: u64, writer: u32, expected: usize) -> Acked {
        Acked { writer, expected, sent: t0, acked: t0 + Duration::from_millis(ms) }
    }

    #[test]
    fn delays_run_from_the_ack_to_each_stream_and_the_first_is_the_earliest() {
        let t0 = Instant::now();
        let mut m = Matcher::default();
        m.acked(key(1), acked(t0, 0, 7, 2));
        m.arrived(key(1), at(t0, 30, 0, 7));
        m.arrived(key(1), at(t0, 10, 1, 9));
        assert_eq!(m.outstanding(), 1, "one of the writer's two streams has not shown it");
        m.arrived(key(1), at(t0, 20, 2, 7));
        let s = m.summary();
        assert_eq!((s.writes, s.deliveries, s.own_expected, s.own_missed), (1, 3, 2, 0));
        assert_eq!((s.unseen_writes, s.before_ack, s.duplicates), (0, 0, 0));
        assert_eq!(s.first.count, 1);
        assert!((s.first.max_ms - 10.0).abs() < 0.1, "{:?}", s.first);
        assert!((s.every.max_ms - 30.0).abs() < 0.1, "{:?}", s.every);
        assert_eq!(s.slowest.len(), 1);
        let slow = &s.slowest[0];
        assert_eq!((slow.object_id, slow.deliveries), (1, 3));
        assert!((slow.first_ms - 10.0).abs() < 0.1 && (slow.last_ms - 30.0).abs() < 0.1);
    }

    #[test]
    fn the_delay_from_the_send_covers_events_read_before_the_ack() {
        let t0 = Instant::now();
        let mut m = Matcher::default();
        m.arrived(key(3), at(t0, 6, 0, 2));
        m.acked(key(3), acked(t0, 9, 2, 1));
        let s = m.summary();
        assert!(s.first.max_ms < 0.01, "before the ack: zero from the ack");
        assert!((s.first_from_send.max_ms - 6.0).abs() < 0.1, "{:?}", s.first_from_send);
        assert!((s.slowest[0].acked_ms - 9.0).abs() < 0.1);
    }

    #[test]
    fn an_event_read_before_the_ack_counts_as_zero_once_the_write_is_known() {
        let t0 = Instant::now();
        let mut m = Matcher::default();
        m.arrived(key(5), at(t0, 0, 3, 2));
        assert_eq!(m.summary().deliveries, 0, "not a known write yet");
        m.acked(key(5), acked(t0, 4, 2, 1));
        let s = m.summary();
        assert_eq!((s.deliveries, s.before_ack, s.own_missed), (1, 1, 0));
        assert!(s.every.max_ms < 0.01);
    }

    #[test]
    fn other_types_other_objects_and_second_copies_do_not_count() {
        let t0 = Instant::now();
        let mut m = Matcher::default();
        m.acked(key(1), acked(t0, 0, 7, 1));
        m.arrived(Key { kind: EventType::CommentUpdated, object_id: 1 }, at(t0, 1, 0, 7));
        m.arrived(key(2), at(t0, 1, 0, 7));
        assert_eq!(m.summary().deliveries, 0);
        m.arrived(key(1), at(t0, 2, 0, 7));
        m.arrived(key(1), at(t0, 3, 0, 7));
        let s = m.summary();
        assert_eq!((s.deliveries, s.duplicates), (1, 1));
    }

    #[test]
    fn missed_deliveries_and_unseen_writes_are_counted_and_foreign_events_pruned() {
        let t0 = Instant::now();
        let mut m = Matcher::default();
        m.acked(key(1), acked(t0, 0, 7, 3));
        m.acked(key(2), acked(t0, 0, 8, 1));
        m.arrived(key(1), at(t0, 5, 0, 7));
        m.arrived(key(99), at(t0, 5, 0, 7));
        m.prune(t0 + Duration::from_millis(10));
        m.acked(key(99), acked(t0, 20, 7, 0));
        let s = m.summary();
        assert_eq!((s.own_expected, s.own_missed, s.unseen_writes), (4, 3, 2));
        assert_eq!(s.deliveries, 1, "the pruned event is gone");
    }
}
