//! Server-side figures: the database pool gauges from each instance's `/metrics`, sampled
//! during the run, counters read from it before and after the run, and Redis's `used_memory`
//! from `INFO memory` (raw RESP over TCP).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::client::Api;

/// The busiest the database pools were, over the samples.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PoolPeak {
    /// Samples taken (per instance, summed).
    pub samples: u64,
    /// Highest `reelplan_db_pool_in_use` seen on one instance.
    pub peak_in_use: f64,
    /// That instance's `reelplan_db_pool_max`.
    pub max: f64,
    /// Highest in-use / max ratio seen.
    pub peak_ratio: f64,
    /// Mean in-use / max ratio.
    pub mean_ratio: f64,
    /// Highest number of connections open at once, summed over the instances of one round of
    /// samples: what the database server holds for this deployment.
    pub peak_open_total: f64,
    /// The database server's connection limit (`reelplan_db_server_max_connections`); None
    /// for SQLite.
    pub server_limit: Option<f64>,
}

impl PoolPeak {
    /// Peak open connections over the server's limit: the original design's "database
    /// connections < 80% of the limit". None when the database has no server limit.
    pub fn server_ratio(&self) -> Option<f64> {
        self.server_limit.filter(|l| *l > 0.0).map(|limit| self.peak_open_total / limit)
    }
}

/// A gauge's value in Prometheus text format.
pub fn gauge(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (metric, value) = line.rsplit_once(' ')?;
        let metric = metric.split('{').next()?.trim();
        (metric == name).then(|| value.trim().parse().ok()).flatten()
    })
}

/// A counter's value in Prometheus text format, summed over all its label sets; None when no
/// series of that name is present.
pub fn counter_sum(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let (metric, value) = line.rsplit_once(' ')?;
            let metric = metric.split('{').next()?.trim();
            (metric == name).then(|| value.trim().parse::<f64>().ok()).flatten()
        })
        .fold(None, |sum, v| Some(sum.unwrap_or(0.0) + v))
}

/// Counter `name` summed over every instance; None when an instance does not answer
/// `/metrics` or does not expose it (an older binary).
pub async fn scrape_counter(api: &Api, name: &str) -> Option<f64> {
    let mut total = 0.0;
    for base in api.urls() {
        total += counter_sum(&api.get_text(base, "/metrics").await?, name)?;
    }
    Some(total)
}

/// Samples every instance's `/metrics` every `every` until `stop` fires.
pub async fn sample_pools(
    api: Arc<Api>,
    every: Duration,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> Option<PoolPeak> {
    let mut peak = PoolPeak::default();
    let mut sum = 0.0;
    loop {
        let mut open_total = 0.0;
        for base in api.urls() {
            let Some(text) = api.get_text(base, "/metrics").await else { continue };
            open_total += gauge(&text, "reelplan_db_pool_connections").unwrap_or(0.0);
            if let Some(limit) = gauge(&text, "reelplan_db_server_max_connections") {
                peak.server_limit = Some(limit);
            }
            let (Some(in_use), Some(max)) =
                (gauge(&text, "reelplan_db_pool_in_use"), gauge(&text, "reelplan_db_pool_max"))
            else {
                continue;
            };
            let ratio = if max > 0.0 { in_use / max } else { 0.0 };
            peak.samples += 1;
            sum += ratio;
            if ratio >= peak.peak_ratio {
                peak = PoolPeak { peak_in_use: in_use, max, peak_ratio: ratio, ..peak };
            }
        }
        peak.peak_open_total = peak.peak_open_total.max(open_total);
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = &mut stop => break,
        }
    }
    (peak.samples > 0).then(|| PoolPeak { mean_ratio: sum / peak.samples as f64, ..peak })
}

/// `used_memory` in bytes from `INFO memory` of the Redis at `url` (`redis://host:port[/db]`).
pub async fn redis_used_memory(url: &str) -> anyhow::Result<u64> {
    let rest = url.strip_prefix("redis://").ok_or_else(|| anyhow::anyhow!("not a redis:// URL"))?;
    let host = rest.rsplit('@').next().unwrap_or(rest).split('/').next().unwrap_or(rest);
    let host = if host.contains(':') { host.to_string() } else { format!("{host}:6379") };
    let stream =
        tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(&host))
            .await??;
    let mut stream = BufReader::new(stream);
    stream.get_mut().write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n").await?;
    let mut header = String::new();
    stream.read_line(&mut header).await?;
    let len: usize = header
        .strip_prefix('$')
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("unexpected Redis reply {header:?}"))?;
    let mut body = vec![0; len];
    stream.read_exact(&mut body).await?;
    let text = String::from_utf8_lossy(&body);
    text.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no used_memory in INFO memory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_judged_against_the_server_limit_only() {
        let pg =
            PoolPeak { peak_open_total: 20.0, server_limit: Some(100.0), ..PoolPeak::default() };
        assert_eq!(pg.server_ratio(), Some(0.2));
        let saturated_pool = PoolPeak { peak_ratio: 1.0, peak_open_total: 10.0, ..pg };
        assert_eq!(saturated_pool.server_ratio(), Some(0.1), "pool occupancy is not the metric");
        let sqlite = PoolPeak { peak_open_total: 10.0, ..PoolPeak::default() };
        assert_eq!(sqlite.server_ratio(), None);
    }

    #[test]
    fn reads_gauges() {
        let text = "# TYPE reelplan_db_pool_in_use gauge\nreelplan_db_pool_in_use 3\nreelplan_db_pool_max 10\n";
        assert_eq!(gauge(text, "reelplan_db_pool_in_use"), Some(3.0));
        assert_eq!(gauge(text, "reelplan_db_pool_max"), Some(10.0));
        assert_eq!(gauge(text, "reelplan_db_pool"), None);
    }

    #[test]
    fn sums_counters_over_label_sets() {
        let text = "# TYPE reelplan_redis_round_trips_total counter\n\
            reelplan_redis_round_trips_total{op=\"get\"} 5\n\
            reelplan_redis_round_trips_total{op=\"set\"} 2\n\
            reelplan_redis_round_trips_totals 100\n";
        assert_eq!(counter_sum(text, "reelplan_redis_round_trips_total"), Some(7.0));
        assert_eq!(
            counter_sum("reelplan_redis_round_trips_total 3\n", "reelplan_redis_round_trips_total"),
            Some(3.0)
        );
        assert_eq!(
            counter_sum("reelplan_db_pool_max 10\n", "reelplan_redis_round_trips_total"),
            None
        );
    }
}
