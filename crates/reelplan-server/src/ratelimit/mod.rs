//! Rate limits against password guessing and signup floods.
//!
//! Logins: attempts are counted per email and per client address (GCRA: `n` per period,
//! replenished evenly). An attempt takes its place in both budgets *before* the password is
//! checked, and a login that did not fail (200, or anything but a 401) gives it back; so `n`
//! concurrent wrong guesses cannot all slip past a check made before any of them was counted:
//! only `n` reach the password check, the others answer 429 `rate_limited` at once. A spent
//! budget answers 429 whether or not the password is right, until an attempt is allowed
//! again; successful logins cost nothing, so an office behind one address is only slowed by
//! its typos.
//!
//! Signups: every signup counts against its client address (`REELPLAN_SIGNUPS_PER_ADDRESS`
//! per minute), before its password is hashed.
//!
//! Keys stay small whatever is sent: an email is keyed only when it is a valid address (at
//! most 254 characters, API.md's rule, normalised as signup stores it); anything else cannot
//! name an account, still answers 401 like any wrong login, and is counted against its
//! address alone. IPv6 addresses are grouped by /64 (one customer's allocation), IPv4-mapped
//! ones taken as IPv4.
//!
//! With Redis configured the budgets live there (`shared.rs`), so instances behind one load
//! balancer share them; an exchange Redis does not answer in time is counted in this
//! instance's own budgets instead, so an outage weakens the limits to per instance, never
//! lifts them.
//!
//! The login and signup use cases ([`crate::service::users`]) consult the limiter after their
//! one parse of the body, with the client address of [`crate::extract::ClientAddress`].

mod shared;

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reelplan_domain::Email;

use shared::Place;
pub use shared::{SharedBudgets, REDIS_OPERATION};

use crate::config::LoginLimitConfig;

/// Attempts between two sweeps of fully replenished keys (bounded memory under a spray).
const PRUNE_EVERY: u64 = 1024;

/// GCRA budgets per key: each key's theoretical arrival time; a key absent is a full budget.
#[derive(Debug)]
struct Budgets<K> {
    interval: Duration,
    period: Duration,
    tats: HashMap<K, Instant>,
    taken: u64,
}

impl<K: Hash + Eq + Clone> Budgets<K> {
    fn new(n: u32, period: Duration) -> Option<Self> {
        let interval = period.checked_div(n).filter(|i| !i.is_zero())?;
        Some(Budgets { interval, period: interval * n, tats: HashMap::new(), taken: 0 })
    }

    /// The key's arrival time after one more attempt at `now`, or how long until one fits.
    fn next(&self, key: &K, now: Instant) -> Result<Instant, Duration> {
        let tat = self.tats.get(key).map_or(now, |tat| (*tat).max(now)) + self.interval;
        let ahead = tat - now;
        if ahead > self.period {
            Err(ahead - self.period)
        } else {
            Ok(tat)
        }
    }

    fn take(&mut self, key: K, tat: Instant, now: Instant) {
        self.taken += 1;
        if self.taken.is_multiple_of(PRUNE_EVERY) {
            self.tats.retain(|_, tat| *tat > now);
        }
        self.tats.insert(key, tat);
    }

    fn give_back(&mut self, key: &K, now: Instant) {
        if let Some(tat) = self.tats.get_mut(key) {
            match tat.checked_sub(self.interval).filter(|t| *t > now) {
                Some(earlier) => *tat = earlier,
                None => {
                    self.tats.remove(key);
                }
            }
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    per_email: Option<Budgets<String>>,
    per_address: Option<Budgets<IpAddr>>,
    signups: Option<Budgets<IpAddr>>,
}

/// Counts logins and signups and says who must wait.
#[derive(Debug)]
pub struct LoginLimiter {
    counters: Mutex<Counters>,
    shared: Option<SharedBudgets>,
}

/// A login attempt that holds a place in its budgets; [`LoginLimiter::refund`] gives it back.
#[derive(Debug)]
pub struct Attempt {
    email: Option<String>,
    address: Option<IpAddr>,
    /// The Redis budgets it holds places in; empty when it was counted locally.
    shared: Vec<Place>,
}

impl<K> Budgets<K> {
    fn place(&self, key: String, by: &'static str) -> Place {
        Place { key, interval: self.interval, period: self.period, by }
    }
}

/// Which budget said "wait", for `reelplan_login_rate_limited_total{by}`.
fn limited_by(by: &'static str) {
    metrics::counter!("reelplan_login_rate_limited_total", "by" => by).increment(1);
}

impl LoginLimiter {
    /// A limiter with these budgets, kept in `shared` when given, else in this process.
    pub fn new(config: LoginLimitConfig, shared: Option<SharedBudgets>) -> Self {
        let counters = Counters {
            per_email: Budgets::new(config.per_email, config.period),
            per_address: Budgets::new(config.per_address, config.period),
            signups: Budgets::new(config.signups_per_address, config.period),
        };
        LoginLimiter { counters: Mutex::new(counters), shared }
    }

    /// The Redis places of a login attempt.
    fn login_places(
        &self,
        shared: &SharedBudgets,
        email: Option<&str>,
        address: Option<IpAddr>,
    ) -> Vec<Place> {
        let counters = self.lock();
        let by_email = counters
            .per_email
            .as_ref()
            .zip(email)
            .map(|(budgets, email)| budgets.place(shared.key("email", email), "email"));
        let by_address = counters.per_address.as_ref().zip(address).map(|(budgets, address)| {
            budgets.place(shared.key("address", &address.to_string()), "address")
        });
        by_email.into_iter().chain(by_address).collect()
    }

    /// Takes `places` in Redis (all or none), counting a spent budget under its label; None
    /// when Redis did not answer, so the caller counts locally instead.
    async fn take_shared(shared: &SharedBudgets, places: &[Place]) -> Option<Result<(), Duration>> {
        Some(shared.take(places).await?.map_err(|(wait, by)| {
            limited_by(by);
            wait
        }))
    }

    /// Takes a place for a login attempt in the email's and the address's budgets (both or
    /// neither), or says how long to wait when either is spent: in Redis when configured
    /// and answering, else in this instance. `email` must already be normalised
    /// ([`login_key`]).
    pub async fn attempt(
        &self,
        email: Option<&str>,
        address: Option<IpAddr>,
    ) -> Result<Attempt, Duration> {
        let address = address.map(network);
        if let Some(shared) = &self.shared {
            let places = self.login_places(shared, email, address);
            if let Some(taken) = Self::take_shared(shared, &places).await {
                let email = email.map(str::to_owned);
                return taken.map(|()| Attempt { email, address, shared: places });
            }
        }
        self.attempt_locally(email, address)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn attempt_locally(
        &self,
        email: Option<&str>,
        address: Option<IpAddr>,
    ) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let mut counters = self.lock();
        let email = email.filter(|_| counters.per_email.is_some()).map(str::to_owned);
        let address = address.filter(|_| counters.per_address.is_some());
        let by_email = match (&counters.per_email, &email) {
            (Some(budgets), Some(key)) => Some(budgets.next(key, now)),
            _ => None,
        };
        let by_address = match (&counters.per_address, &address) {
            (Some(budgets), Some(key)) => Some(budgets.next(key, now)),
            _ => None,
        };
        let wait = [(&by_email, "email"), (&by_address, "address")]
            .into_iter()
            .filter_map(|(outcome, by)| match outcome {
                Some(Err(wait)) => {
                    limited_by(by);
                    Some(*wait)
                }
                _ => None,
            })
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        if let (Some(Ok(tat)), Some(key), Some(budgets)) =
            (by_email, &email, counters.per_email.as_mut())
        {
            budgets.take(key.clone(), tat, now);
        }
        if let (Some(Ok(tat)), Some(key), Some(budgets)) =
            (by_address, address, counters.per_address.as_mut())
        {
            budgets.take(key, tat, now);
        }
        Ok(Attempt { email, address, shared: Vec::new() })
    }

    /// Gives an attempt's places back: the login did not fail.
    pub async fn refund(&self, attempt: Attempt) {
        if let Some(shared) = self.shared.as_ref().filter(|_| !attempt.shared.is_empty()) {
            return shared.give_back(&attempt.shared).await;
        }
        let now = Instant::now();
        let mut counters = self.lock();
        if let (Some(budgets), Some(key)) = (counters.per_email.as_mut(), &attempt.email) {
            budgets.give_back(key, now);
        }
        if let (Some(budgets), Some(key)) = (counters.per_address.as_mut(), &attempt.address) {
            budgets.give_back(key, now);
        }
    }

    /// Counts a signup from `address`, or says how long to wait (in Redis when configured
    /// and answering, else in this instance).
    pub async fn signup(&self, address: Option<IpAddr>) -> Result<(), Duration> {
        let address = address.map(network);
        if let Some(shared) = &self.shared {
            let place = self.lock().signups.as_ref().zip(address).map(|(budgets, address)| {
                budgets.place(shared.key("signup", &address.to_string()), "signup")
            });
            // No budget or no address: the local path below lets it through too.
            if let Some(place) = place {
                if let Some(taken) = Self::take_shared(shared, std::slice::from_ref(&place)).await {
                    return taken;
                }
            }
        }
        let now = Instant::now();
        let mut counters = self.lock();
        let (Some(budgets), Some(key)) = (counters.signups.as_mut(), address) else {
            return Ok(());
        };
        let tat = budgets.next(&key, now).inspect_err(|_| limited_by("signup"))?;
        budgets.take(key, tat, now);
        Ok(())
    }

    /// Keys held right now, over all budgets (for tests: memory stays bounded).
    pub fn keys(&self) -> usize {
        let counters = self.lock();
        counters.per_email.as_ref().map_or(0, |b| b.tats.len())
            + counters.per_address.as_ref().map_or(0, |b| b.tats.len())
            + counters.signups.as_ref().map_or(0, |b| b.tats.len())
    }
}

/// The address as rate limits key it: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64.
pub fn network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
    }
}

/// The email a login is counted against: the address as signup would store it, or None when
/// it is not a valid address (no account can have it; its size is then never a key's).
pub fn login_key(email: &str) -> Option<Email> {
    Email::parse(email).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_allows_n_then_replenishes_evenly_and_refunds() {
        let mut budgets = Budgets::<u8>::new(3, Duration::from_secs(60)).unwrap();
        let now = Instant::now();
        for _ in 0..3 {
            let tat = budgets.next(&1, now).expect("within the budget");
            budgets.take(1, tat, now);
        }
        let wait = budgets.next(&1, now).unwrap_err();
        assert_eq!(wait, Duration::from_secs(20), "one attempt back every period / n");
        assert!(budgets.next(&2, now).is_ok(), "keys are independent");
        budgets.give_back(&1, now);
        assert!(budgets.next(&1, now).is_ok(), "a refund frees a place");
        assert!(budgets.next(&1, now + Duration::from_secs(20)).is_ok());
        assert!(Budgets::<u8>::new(0, Duration::from_secs(60)).is_none(), "0: no limit");
    }

    /// A Redis that does not answer leaves the limits to this instance's own counters.
    #[tokio::test]
    async fn without_an_answering_redis_the_budgets_are_counted_locally() {
        let config = LoginLimitConfig { per_email: 2, ..LoginLimitConfig::default() };
        let unreachable =
            SharedBudgets::new("redis://127.0.0.1:1", "rp", Duration::from_millis(200));
        let limiter = LoginLimiter::new(config, Some(unreachable.unwrap()));
        for _ in 0..2 {
            limiter.attempt(Some("ann@example.com"), None).await.expect("within the budget");
        }
        let wait = limiter.attempt(Some("ann@example.com"), None).await.unwrap_err();
        assert!(wait > Duration::ZERO);
        assert!(limiter.keys() > 0, "counted in this process");
    }

    #[test]
    fn ipv6_is_grouped_by_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network(a), network(b));
        assert_ne!(network(a), network(c));
        assert_eq!(network(a), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        assert_eq!(network(mapped), "10.0.0.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn only_valid_emails_are_keys() {
        assert_eq!(login_key(" Ann@Example.COM ").as_deref(), Some("ann@example.com"));
        assert_eq!(login_key(&format!("{}@example.com", "a".repeat(300))), None);
        assert_eq!(login_key("not an email"), None);
    }
}
