//! The HTTP side: one `reqwest` client, the `--url` list taken round-robin, and responses
//! reduced to an [`Outcome`] (status, `X-Query-Count`, `X-Cache`) plus the body when asked.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

use super::recorder::{Cache, Outcome};

/// The instances under test.
#[derive(Debug)]
pub struct Api {
    client: reqwest::Client,
    urls: Vec<String>,
    next: AtomicUsize,
}

/// A finished request.
#[derive(Debug)]
pub struct Answer {
    /// What the response told.
    pub outcome: Outcome,
    /// When the body was fully read.
    pub done: Instant,
    /// The parsed body, when asked for and JSON.
    pub body: Option<Value>,
    /// The response's `ETag`, if any.
    pub etag: Option<String>,
}

impl Answer {
    /// The status when it is one of `ok`.
    pub fn is(&self, ok: &[u16]) -> bool {
        self.outcome.status.is_some_and(|s| ok.contains(&s))
    }
}

fn outcome_of(response: &Response) -> Outcome {
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
    Outcome {
        status: Some(response.status().as_u16()),
        queries: header("x-query-count").and_then(|v| v.trim().parse().ok()),
        cache: header("x-cache").and_then(|v| match v.trim() {
            "HIT" => Some(Cache::Hit),
            "MISS" => Some(Cache::Miss),
            "BYPASS" => Some(Cache::Bypass),
            _ => None,
        }),
    }
}

impl Api {
    /// A client for `urls` with up to `connections` keep-alive connections per instance.
    pub fn new(urls: Vec<String>, connections: usize) -> anyhow::Result<Self> {
        anyhow::ensure!(!urls.is_empty(), "give at least one --url");
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()?;
        let urls = urls.into_iter().map(|u| u.trim_end_matches('/').to_string()).collect();
        Ok(Api { client, urls, next: AtomicUsize::new(0) })
    }

    /// The instances.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// The next instance, round-robin.
    pub fn base(&self) -> &str {
        &self.urls[self.next.fetch_add(1, Ordering::Relaxed) % self.urls.len()]
    }

    /// A request to `path` on the next instance, with `token` when given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, format!("{}{path}", self.base()));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Sends `request`; reads the body, parsing it as JSON when `parse`.
    pub async fn send(&self, request: RequestBuilder, parse: bool) -> Answer {
        let response = match request.send().await {
            Ok(response) => response,
            Err(_) => {
                let done = Instant::now();
                return Answer { outcome: Outcome::default(), done, body: None, etag: None };
            }
        };
        let mut outcome = outcome_of(&response);
        let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = match response.bytes().await {
            Ok(bytes) if parse => serde_json::from_slice(&bytes).ok(),
            Ok(_) => None,
            Err(_) => {
                outcome.status = None;
                None
            }
        };
        Answer { outcome, done: Instant::now(), body, etag }
    }

    /// A plain GET of a non-API path (`/metrics`), as text.
    pub async fn get_text(&self, base: &str, path: &str) -> Option<String> {
        let response = self.client.get(format!("{base}{path}")).send().await.ok()?;
        response.error_for_status().ok()?.text().await.ok()
    }
}
