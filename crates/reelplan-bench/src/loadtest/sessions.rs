//! Who sends the load: a pool of user draws with `BENCHMARK.md`'s heavy tail. Each distinct
//! user logs in once (token cached) and lists up to 100 of their projects once, to know which
//! projects are theirs and which they manage. During the run every request takes a draw from
//! the pool uniformly, so power users send about 30% of the requests.

use std::collections::BTreeMap;
use std::sync::Arc;

use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::Rng;
use reqwest::Method;
use serde_json::json;

use super::client::Api;
use crate::dataset::{credentials, heavy_tail_user, DatasetSize};

/// A logged-in user and what they may touch.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user number (`user{N}`).
    pub user: u32,
    /// Bearer token.
    pub token: String,
    /// Projects they own or belong to (first 100 of their list).
    pub projects: Vec<i64>,
    /// Of which they own or manage.
    pub managed: Vec<i64>,
}

/// The draws and the sessions behind them.
#[derive(Debug, Default)]
pub struct Pool {
    /// One session per distinct user.
    pub sessions: Vec<Arc<Session>>,
    /// The draws, as indexes into `sessions`.
    pub draws: Vec<usize>,
    /// Draws whose user has at least one project.
    pub with_projects: Vec<usize>,
    /// Draws whose user manages at least one project.
    pub managing: Vec<usize>,
}

impl Pool {
    /// Any draw.
    pub fn any(&self, rng: &mut StdRng) -> &Session {
        &self.sessions[self.draws[rng.random_range(0..self.draws.len())]]
    }

    /// A draw with projects, if any user has one.
    pub fn member(&self, rng: &mut StdRng) -> Option<&Session> {
        let i = *self.with_projects.get(rng.random_range(0..self.with_projects.len().max(1)))?;
        Some(&self.sessions[i])
    }

    /// A draw managing projects, if any user does.
    pub fn manager(&self, rng: &mut StdRng) -> Option<&Session> {
        let i = *self.managing.get(rng.random_range(0..self.managing.len().max(1)))?;
        Some(&self.sessions[i])
    }
}

/// Logs one user in. The server sheds logins past its hashing slots (503) and its per-address
/// budget of attempts in flight (429): a polite client backs off and tries again, as this
/// one does, for up to about a minute.
pub async fn login(api: &Api, user: u32) -> anyhow::Result<Session> {
    let (email, password) = credentials(user);
    let mut pause = std::time::Duration::from_millis(20);
    let answer = loop {
        let request = api
            .request(Method::POST, "/api/auth/login", None)
            .json(&json!({"email": email, "password": password}));
        let answer = api.send(request, true).await;
        let shed = answer.is(&[429, 503]);
        if !shed || pause > std::time::Duration::from_secs(8) {
            break answer;
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    };
    anyhow::ensure!(answer.is(&[200]), "login of {email} answered {:?}", answer.outcome.status);
    let token =
        answer.body.as_ref().and_then(|b| b["result"]["token"].as_str()).unwrap_or_default();
    let token = token.to_string();
    let answer =
        api.send(api.request(Method::GET, "/api/projects?limit=100", Some(&token)), true).await;
    anyhow::ensure!(answer.is(&[200]), "list of {email} answered {:?}", answer.outcome.status);
    let mut projects = Vec::new();
    let mut managed = Vec::new();
    let items =
        answer.body.as_ref().and_then(|b| b["result"].as_array().cloned()).unwrap_or_default();
    for item in items {
        let Some(id) = item["id"].as_i64() else { continue };
        projects.push(id);
        if matches!(item["my_role"].as_str(), Some("owner" | "manager")) {
            managed.push(id);
        }
    }
    Ok(Session { user, token, projects, managed })
}

/// Draws `draws` users, then logs each distinct one in, `concurrency` at a time.
pub async fn build(
    api: &Arc<Api>,
    size: DatasetSize,
    draws: usize,
    concurrency: usize,
    rng: &mut StdRng,
) -> anyhow::Result<Pool> {
    let users: Vec<u32> = (0..draws.max(1)).map(|_| heavy_tail_user(rng, size)).collect();
    let mut distinct: Vec<u32> = users.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let bar = ProgressBar::new(distinct.len() as u64).with_message("logins");
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for user in distinct {
        let api = Arc::clone(api);
        let semaphore = Arc::clone(&semaphore);
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            login(&api, user).await
        });
    }
    let mut pool = Pool::default();
    let mut index = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let session = joined??;
        bar.inc(1);
        index.insert(session.user, pool.sessions.len());
        pool.sessions.push(Arc::new(session));
    }
    bar.finish_and_clear();
    for user in users {
        let i = index[&user];
        pool.draws.push(i);
        if !pool.sessions[i].projects.is_empty() {
            pool.with_projects.push(i);
        }
        if !pool.sessions[i].managed.is_empty() {
            pool.managing.push(i);
        }
    }
    Ok(pool)
}
