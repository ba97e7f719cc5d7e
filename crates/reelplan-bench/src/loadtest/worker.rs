//! One load-test worker: draws a kind and a user, sends the request, and after every write
//! reads it back through the next `--url` (possibly another instance) to check that it is
//! visible. Writes to the same project never overlap (projects are claimed for the duration of
//! a write and its read-back), so a read-back that misses the write is a stale read, exactly.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use reelplan_domain::Phase;
use reqwest::Method;
use serde_json::{json, Value};

use super::client::{Answer, Api};
use super::mix::{Kind, Mix};
use super::recorder::Recorder;
use super::sessions::{Pool, Session};
use crate::dataset::DatasetSize;

/// What every worker shares.
#[derive(Debug)]
pub struct Shared {
    /// The instances.
    pub api: Arc<Api>,
    /// The users.
    pub pool: Pool,
    /// Which dataset (to draw users to add as members).
    pub size: DatasetSize,
    /// The mix the kinds are drawn from.
    pub mix: Mix,
    /// Projects with a write in flight.
    pub claims: Mutex<HashSet<i64>>,
    /// Memberships the load test added and has not removed yet: project -> member ids.
    pub added: Mutex<HashMap<i64, Vec<i64>>>,
    /// With `--conditional`: the last `ETag` each user saw per path, sent back in
    /// `If-None-Match` as a front end's refetch does.
    pub etags: Option<Mutex<HashMap<(u32, String), String>>>,
}

/// What one worker measured.
#[derive(Debug, Default)]
pub struct Tally {
    /// Per kind, the six of the mix and `ReadBack`.
    pub kinds: HashMap<Kind, Recorder>,
    /// Writes whose visibility was checked, per kind.
    pub checked: HashMap<Kind, u64>,
    /// Read-backs that did not show the write, per kind.
    pub stale: HashMap<Kind, u64>,
    /// Requests drawn but skipped (no user with projects, or every candidate claimed).
    pub skipped: u64,
}

impl Tally {
    fn record(&mut self, kind: Kind, since: Instant, answer: &Answer) {
        let latency = answer.done.saturating_duration_since(since);
        self.kinds.entry(kind).or_default().record(latency, answer.outcome);
    }

    fn verdict(&mut self, kind: Kind, visible: bool) {
        *self.checked.entry(kind).or_default() += 1;
        if !visible {
            *self.stale.entry(kind).or_default() += 1;
        }
    }

    /// Adds `other` into this one.
    pub fn merge(&mut self, other: &Tally) {
        for (kind, recorder) in &other.kinds {
            self.kinds.entry(*kind).or_default().merge(recorder);
        }
        for (kind, n) in &other.checked {
            *self.checked.entry(*kind).or_default() += n;
        }
        for (kind, n) in &other.stale {
            *self.stale.entry(*kind).or_default() += n;
        }
        self.skipped += other.skipped;
    }
}

/// A claimed project, released on drop.
struct Claim<'a>(&'a Shared, i64);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.0.claims.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.1);
    }
}

impl Shared {
    fn claim(&self, rng: &mut StdRng, candidates: &[i64]) -> Option<Claim<'_>> {
        let mut claims = self.claims.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..8 {
            let project = candidates[rng.random_range(0..candidates.len())];
            if claims.insert(project) {
                return Some(Claim(self, project));
            }
        }
        None
    }

    fn get(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.api.request(Method::GET, path, Some(token))
    }

    /// One of the mix's reads: with `--conditional`, a refetch holding the last ETag the user
    /// saw for `path`, and the ETag it gets kept for the next.
    async fn read(&self, session: &Session, path: &str) -> Answer {
        let Some(etags) = &self.etags else {
            return self.api.send(self.get(path, &session.token), false).await;
        };
        let key = (session.user, path.to_owned());
        let held = etags.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
        let mut request = self.get(path, &session.token);
        if let Some(held) = held {
            request = request.header("if-none-match", held);
        }
        let answer = self.api.send(request, false).await;
        if let Some(tag) = &answer.etag {
            etags.lock().unwrap_or_else(|e| e.into_inner()).insert(key, tag.clone());
        }
        answer
    }
}

fn time_of(value: &Value) -> Option<DateTime<Utc>> {
    value.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

/// Sends one request of `kind` (and its read-back), timing from `since`: the actual send
/// (closed loop) or the intended one (open loop).
pub async fn run_one(
    shared: &Shared,
    kind: Kind,
    since: Instant,
    rng: &mut StdRng,
    tally: &mut Tally,
) {
    let pool = &shared.pool;
    let session = match kind {
        Kind::List => Some(pool.any(rng)),
        Kind::Detail | Kind::Comments | Kind::PostComment => pool.member(rng),
        Kind::SetPhase | Kind::Member => pool.manager(rng),
        Kind::ReadBack => None,
    };
    let Some(session) = session else {
        tally.skipped += 1;
        return;
    };
    match kind {
        Kind::List => {
            let answer = shared.read(session, "/api/projects").await;
            tally.record(kind, since, &answer);
        }
        Kind::Detail | Kind::Comments => {
            let project = session.projects[rng.random_range(0..session.projects.len())];
            let path = if kind == Kind::Detail {
                format!("/api/projects/{project}")
            } else {
                format!("/api/projects/{project}/feedback/comments")
            };
            let answer = shared.read(session, &path).await;
            tally.record(kind, since, &answer);
        }
        Kind::PostComment => post_comment(shared, session, since, rng, tally).await,
        Kind::SetPhase => set_phase(shared, session, since, rng, tally).await,
        Kind::Member => member(shared, session, since, rng, tally).await,
        Kind::ReadBack => {}
    }
}

async fn post_comment(
    shared: &Shared,
    session: &Session,
    since: Instant,
    rng: &mut StdRng,
    tally: &mut Tally,
) {
    let project = session.projects[rng.random_range(0..session.projects.len())];
    let path = format!("/api/projects/{project}/feedback/comments");
    let timecode = f64::from(rng.random_range(0..600_000_u32)) / 1000.0;
    let body =
        json!({"text": format!("load test comment {}", rng.random::<u32>()), "timecode": timecode});
    let request = shared.api.request(Method::POST, &path, Some(&session.token)).json(&body);
    let answer = shared.api.send(request, true).await;
    tally.record(Kind::PostComment, since, &answer);
    let Some(id) = answer.body.as_ref().and_then(|b| b["result"]["id"].as_i64()) else { return };
    if !answer.is(&[201]) {
        return;
    }
    // Comments are oldest first: follow the pages until the new one shows or the thread ends.
    let mut cursor: Option<String> = None;
    let mut visible = false;
    for _ in 0..50 {
        let page_path = match &cursor {
            Some(c) => format!("{path}?cursor={c}"),
            None => path.clone(),
        };
        let started = Instant::now();
        let page = shared.api.send(shared.get(&page_path, &session.token), true).await;
        tally.record(Kind::ReadBack, started, &page);
        let Some(body) = page.body.filter(|_| page.outcome.status == Some(200)) else { break };
        let items = body["result"].as_array().map(Vec::as_slice).unwrap_or_default();
        if items.iter().any(|c| c["id"].as_i64() == Some(id)) {
            visible = true;
            break;
        }
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    tally.verdict(Kind::PostComment, visible);
}

async fn read_detail(
    shared: &Shared,
    session: &Session,
    project: i64,
    tally: &mut Tally,
) -> Option<Value> {
    let started = Instant::now();
    let path = format!("/api/projects/{project}");
    let answer = shared.api.send(shared.get(&path, &session.token), true).await;
    tally.record(Kind::ReadBack, started, &answer);
    answer.body.filter(|_| answer.outcome.status == Some(200)).map(|mut b| b["result"].take())
}

async fn set_phase(
    shared: &Shared,
    session: &Session,
    since: Instant,
    rng: &mut StdRng,
    tally: &mut Tally,
) {
    let Some(claim) = shared.claim(rng, &session.managed) else {
        tally.skipped += 1;
        return;
    };
    let project = claim.1;
    let phase = Phase::ALL[rng.random_range(0..8)];
    let start = Utc::now().timestamp() - rng.random_range(0..200 * 86_400) + 100 * 86_400;
    let end = start + rng.random_range(1..=30) * 86_400;
    let as_time = |secs: i64| DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
    let (start, end) = (as_time(start), as_time(end));
    let path = format!("/api/projects/{project}/phases/{}", phase.as_str());
    let body = json!({"start_date": start.to_rfc3339(), "end_date": end.to_rfc3339()});
    let request = shared.api.request(Method::PUT, &path, Some(&session.token)).json(&body);
    let answer = shared.api.send(request, false).await;
    tally.record(Kind::SetPhase, since, &answer);
    if !answer.is(&[200]) {
        return;
    }
    let detail = read_detail(shared, session, project, tally).await;
    let visible = detail.is_some_and(|d| {
        let dates = &d["phases"][phase.as_str()];
        time_of(&dates["start_date"]) == Some(start) && time_of(&dates["end_date"]) == Some(end)
    });
    tally.verdict(Kind::SetPhase, visible);
}

async fn member(
    shared: &Shared,
    session: &Session,
    since: Instant,
    rng: &mut StdRng,
    tally: &mut Tally,
) {
    let Some(claim) = shared.claim(rng, &session.managed) else {
        tally.skipped += 1;
        return;
    };
    let project = claim.1;
    let removable = {
        let mut added = shared.added.lock().unwrap_or_else(|e| e.into_inner());
        added.get_mut(&project).and_then(Vec::pop)
    };
    let (answer, member_id, present) = match removable {
        Some(member_id) => {
            let path = format!("/api/projects/{project}/members/{member_id}");
            let request = shared.api.request(Method::DELETE, &path, Some(&session.token));
            let answer = shared.api.send(request, false).await;
            (answer, member_id, false)
        }
        None => {
            // A non-power user, so that collisions with existing members stay rare (a 409).
            let size = shared.size;
            let user = rng.random_range(size.power_users() + 1..=size.users());
            let role = if rng.random_bool(0.5) { "viewer" } else { "editor" };
            let body = json!({"email": format!("user{user}@example.com"), "role": role});
            let path = format!("/api/projects/{project}/members");
            let request = shared.api.request(Method::POST, &path, Some(&session.token)).json(&body);
            let answer = shared.api.send(request, true).await;
            let id = answer.body.as_ref().and_then(|b| b["result"]["id"].as_i64()).unwrap_or(0);
            (answer, id, true)
        }
    };
    tally.record(Kind::Member, since, &answer);
    let ok = if present { answer.is(&[201]) } else { answer.is(&[204]) };
    if !ok {
        if !present && answer.outcome.status.is_none_or(|s| s >= 500) {
            // The removal may not have happened: keep it on the list to retry later.
            shared
                .added
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(project)
                .or_default()
                .push(member_id);
        }
        return;
    }
    if present {
        shared
            .added
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(project)
            .or_default()
            .push(member_id);
    }
    let detail = read_detail(shared, session, project, tally).await;
    let visible = detail.is_some_and(|d| {
        let members = d["members"].as_array().map(Vec::as_slice).unwrap_or_default();
        members.iter().any(|m| m["id"].as_i64() == Some(member_id)) == present
    });
    tally.verdict(Kind::Member, visible);
    drop(claim);
}

/// Removes the memberships the run added and did not remove, so the dataset stays as seeded.
/// Returns how many could not be removed.
pub async fn clean_up(shared: &Shared) -> usize {
    let added: Vec<(i64, Vec<i64>)> =
        shared.added.lock().unwrap_or_else(|e| e.into_inner()).drain().collect();
    let mut failed = 0;
    for (project, members) in added {
        let Some(session) = shared.pool.sessions.iter().find(|s| s.managed.contains(&project))
        else {
            failed += members.len();
            continue;
        };
        for member_id in members {
            let path = format!("/api/projects/{project}/members/{member_id}");
            let request = shared.api.request(Method::DELETE, &path, Some(&session.token));
            if !shared.api.send(request, false).await.is(&[204, 404]) {
                failed += 1;
            }
        }
    }
    failed
}

/// A closed-loop worker: one request after another until `deadline`.
pub async fn closed_loop(shared: Arc<Shared>, deadline: Instant, mut rng: StdRng) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        let kind = shared.mix.pick(&mut rng);
        run_one(&shared, kind, Instant::now(), &mut rng, &mut tally).await;
    }
    tally
}

/// An open-loop worker: takes the next slot of the fixed schedule (`start + i / rate`), waits
/// for its time, sends, and measures from the intended time (no coordinated omission).
pub async fn open_loop(
    shared: Arc<Shared>,
    start: Instant,
    deadline: Instant,
    interval: Duration,
    slots: Arc<std::sync::atomic::AtomicU64>,
    mut rng: StdRng,
) -> Tally {
    let mut tally = Tally::default();
    loop {
        let slot = slots.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let intended = start + interval.mul_f64(slot as f64);
        if intended >= deadline {
            break;
        }
        tokio::time::sleep_until(intended.into()).await;
        let kind = shared.mix.pick(&mut rng);
        run_one(&shared, kind, intended, &mut rng, &mut tally).await;
    }
    tally
}
