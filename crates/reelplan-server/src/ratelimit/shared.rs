//! Budgets kept in Redis, so that every instance of a deployment counts against the same
//! ones: each exchange is one Lua script, atomic in Redis, running the same GCRA as the local
//! budgets on Redis's own clock. A key lives only until its budget is whole again.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::Script;

/// The `op` label of a failed exchange in `reelplan_redis_errors_total`.
pub const REDIS_OPERATION: &str = "rate_limit";

/// One budget an attempt takes a place in: its Redis key, its GCRA parameters, and its label
/// in `reelplan_login_rate_limited_total{by}`.
#[derive(Debug, Clone)]
pub(super) struct Place {
    pub key: String,
    pub interval: Duration,
    pub period: Duration,
    pub by: &'static str,
}

/// Takes one place in every budget of KEYS (ARGV: interval and period in ms, per key), all or
/// none: `{0, 0}`, or `{wait ms, index of the spent budget}`.
const TAKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait, which, tats = 0, 0, {}
for i, key in ipairs(KEYS) do
  local interval, period = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local tat = math.max(tonumber(redis.call('GET', key) or now), now) + interval
  if tat - now > period and tat - now - period > wait then
    wait, which = tat - now - period, i
  end
  tats[i] = tat
end
if which > 0 then return {wait, which} end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, tats[i], 'PX', tats[i] - now)
end
return {0, 0}
";

/// Gives one place back in every budget of KEYS (ARGV: interval in ms, per key).
const GIVE_BACK: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  local tat = redis.call('GET', key)
  if tat then
    local earlier = tonumber(tat) - tonumber(ARGV[i])
    if earlier > now then
      redis.call('SET', key, earlier, 'PX', earlier - now)
    else
      redis.call('DEL', key)
    end
  end
end
return 0
";

/// The Redis side of the login and signup budgets.
pub struct SharedBudgets {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
    take: Script,
    give_back: Script,
}

impl std::fmt::Debug for SharedBudgets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBudgets").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl SharedBudgets {
    /// Budgets under `<namespace>:rl:` in the Redis at `url`; connects lazily, and every
    /// exchange gives up after `timeout`.
    pub fn new(url: &str, namespace: &str, timeout: Duration) -> redis::RedisResult<Self> {
        let conn = crate::redis_conn::connect(redis::Client::open(url)?, timeout)?;
        Ok(SharedBudgets {
            conn,
            prefix: format!("{namespace}:rl"),
            timeout,
            take: Script::new(TAKE),
            give_back: Script::new(GIVE_BACK),
        })
    }

    /// The Redis key of `key` in the budget called `budget`.
    pub(super) fn key(&self, budget: &str, key: &str) -> String {
        format!("{}:{budget}:{key}", self.prefix)
    }

    /// Takes a place in each of `places` (all or none): Ok, or the wait and the spent budget's
    /// label. None when Redis did not answer in time.
    pub(super) async fn take(
        &self,
        places: &[Place],
    ) -> Option<Result<(), (Duration, &'static str)>> {
        let mut invocation = self.take.prepare_invoke();
        for place in places {
            invocation.key(&place.key).arg(millis(place.interval)).arg(millis(place.period));
        }
        let mut conn = self.conn.clone();
        let (wait, which): (u64, usize) = self.exchange(invocation.invoke_async(&mut conn)).await?;
        Some(match which.checked_sub(1) {
            None => Ok(()),
            Some(spent) => Err((Duration::from_millis(wait), places[spent].by)),
        })
    }

    /// Gives a place back in each of `places`.
    pub(super) async fn give_back(&self, places: &[Place]) {
        let mut invocation = self.give_back.prepare_invoke();
        for place in places {
            invocation.key(&place.key).arg(millis(place.interval));
        }
        let mut conn = self.conn.clone();
        self.exchange::<i64>(invocation.invoke_async(&mut conn)).await;
    }

    async fn exchange<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        let what = "redis rate limit exchange failed; counting locally";
        crate::redis_conn::exchange(REDIS_OPERATION, self.timeout, what, call).await
    }
}
