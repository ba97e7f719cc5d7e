//! This instance's open streams, indexed by the projects they follow and by their user, with
//! the ids of the events delivered lately (an event reaches a stream once, whichever way it
//! came: this instance, Redis, or the log after a break).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use reelplan_domain::{ProjectId, UserId};
use reelplan_store::Event;
use tokio::sync::mpsc;

use super::membership::{Membership, Verdict};
use super::StreamStartError;
use crate::config::EventsConfig;

/// One SSE message, written once per event and shared by every stream that shows it.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The event's id (a stream drops what its replay already showed).
    pub id: i64,
    /// The message as written on the wire.
    pub bytes: Bytes,
}

/// How many delivered event ids are remembered to drop a second copy.
const REMEMBERED: usize = 8192;

struct Entry {
    user: UserId,
    /// None until the stream's start is read; events meanwhile wait in `pending`.
    membership: Option<Membership>,
    pending: Vec<Arc<Event>>,
    sender: mpsc::Sender<Frame>,
}

#[derive(Default)]
struct Inner {
    /// Set at shutdown: no stream opens any more.
    closed: bool,
    next_id: u64,
    streams: HashMap<u64, Entry>,
    by_project: HashMap<ProjectId, HashSet<u64>>,
    by_user: HashMap<UserId, HashSet<u64>>,
    starting: HashSet<u64>,
    seen: HashSet<i64>,
    seen_order: VecDeque<i64>,
    watermark: i64,
}

/// The streams of this instance (cheap to clone: one shared table).
#[derive(Clone)]
pub(super) struct Registry {
    inner: Arc<Mutex<Inner>>,
    config: EventsConfig,
}

/// An open stream's end of the registry: its frames, and its place, given back on drop.
pub struct StreamHandle {
    id: u64,
    /// The frames to write, in order.
    pub frames: mpsc::Receiver<Frame>,
    registry: Registry,
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        self.registry.remove(self.id);
    }
}

impl StreamHandle {
    /// Tells the registry which projects the stream follows (read from the database after it
    /// was registered) and delivers what arrived meanwhile.
    pub fn start(&self, membership: Membership) {
        self.registry.start(self.id, membership);
    }
}

/// The SSE message of an event: `id`, `event` (its type) and `data` (the event as JSON).
pub(crate) fn frame_of(event: &Event) -> Frame {
    let data = serde_json::to_string(event).unwrap_or_default();
    let text = format!("id: {}\nevent: {}\ndata: {data}\n\n", event.id, event.kind.as_str());
    Frame { id: event.id, bytes: Bytes::from(text) }
}

impl Registry {
    pub(super) fn new(config: EventsConfig) -> Self {
        Registry { inner: Arc::default(), config }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn len(&self) -> usize {
        self.lock().streams.len()
    }

    pub(super) fn watermark(&self) -> i64 {
        self.lock().watermark
    }

    /// Registers a stream of `user` before its start is read, so that no event committed
    /// meanwhile is missed: until [`StreamHandle::start`], its events wait.
    pub(super) fn register(&self, user: UserId) -> Result<StreamHandle, StreamStartError> {
        let mut inner = self.lock();
        if inner.closed || inner.streams.len() >= self.config.max_streams {
            return Err(StreamStartError::Full);
        }
        if inner.by_user.get(&user).map_or(0, HashSet::len) >= self.config.max_streams_per_user {
            return Err(StreamStartError::UserFull);
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let (sender, frames) = mpsc::channel(self.config.backlog.max(1));
        inner.streams.insert(id, Entry { user, membership: None, pending: Vec::new(), sender });
        inner.by_user.entry(user).or_default().insert(id);
        inner.starting.insert(id);
        metrics::gauge!("reelplan_event_streams").set(inner.streams.len() as f64);
        Ok(StreamHandle { id, frames, registry: self.clone() })
    }

    fn start(&self, id: u64, membership: Membership) {
        let mut inner = self.lock();
        inner.starting.remove(&id);
        let Some(entry) = inner.streams.get_mut(&id) else { return };
        let pending = std::mem::take(&mut entry.pending);
        let projects: Vec<ProjectId> = membership.projects.iter().copied().collect();
        entry.membership = Some(membership);
        for project in projects {
            inner.by_project.entry(project).or_default().insert(id);
        }
        for event in pending {
            let frame = frame_of(&event);
            inner.offer(id, &event, &frame);
        }
    }

    /// Ends every stream (their bodies finish, so their connections can close) and opens no
    /// more: at shutdown, so that clients reconnect elsewhere with their `Last-Event-ID` instead
    /// of holding the instance for its whole grace.
    pub(super) fn close_all(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        inner.streams.clear();
        inner.by_project.clear();
        inner.by_user.clear();
        inner.starting.clear();
        metrics::gauge!("reelplan_event_streams").set(0.0);
    }

    fn remove(&self, id: u64) {
        let mut inner = self.lock();
        inner.drop_stream(id);
        metrics::gauge!("reelplan_event_streams").set(inner.streams.len() as f64);
    }

    /// Delivers an event to every stream it concerns, once.
    pub(super) fn deliver(&self, event: &Arc<Event>) {
        let mut inner = self.lock();
        if !inner.seen.insert(event.id) {
            return;
        }
        inner.seen_order.push_back(event.id);
        if inner.seen_order.len() > REMEMBERED {
            if let Some(old) = inner.seen_order.pop_front() {
                inner.seen.remove(&old);
            }
        }
        inner.watermark = inner.watermark.max(event.id);
        let mut recipients: Vec<u64> = inner.starting.iter().copied().collect();
        if let Some(ids) = inner.by_project.get(&event.project_id) {
            recipients.extend(ids);
        }
        if let Some(ids) = event.subject_id.and_then(|user| inner.by_user.get(&user)) {
            recipients.extend(ids);
        }
        if recipients.is_empty() {
            return;
        }
        recipients.sort_unstable();
        recipients.dedup();
        let frame = frame_of(event);
        for id in recipients {
            inner.offer(id, event, &frame);
        }
    }
}

impl Inner {
    /// Shows `event` to stream `id` if its membership admits it (or keeps it for later while
    /// the stream is starting); a stream whose backlog is full is closed.
    fn offer(&mut self, id: u64, event: &Arc<Event>, frame: &Frame) {
        let Some(entry) = self.streams.get_mut(&id) else { return };
        let Some(membership) = entry.membership.as_mut() else {
            if entry.pending.len() < entry.sender.max_capacity() {
                entry.pending.push(event.clone());
            } else {
                self.drop_stream(id);
            }
            return;
        };
        let verdict = membership.admit(event);
        if verdict == Verdict::Skip {
            return;
        }
        let full = entry.sender.try_send(frame.clone()).is_err();
        match verdict {
            Verdict::ShowAndFollow => {
                self.by_project.entry(event.project_id).or_default().insert(id);
            }
            Verdict::ShowAndLeave => self.unfollow(event.project_id, id),
            Verdict::Show | Verdict::Skip => {}
        }
        if full {
            // Behind by a whole backlog: closing it makes the client reconnect with its
            // Last-Event-ID, and the log replays what it missed.
            metrics::counter!("reelplan_event_streams_overflowed_total").increment(1);
            self.drop_stream(id);
        }
    }

    fn unfollow(&mut self, project: ProjectId, id: u64) {
        if let Some(ids) = self.by_project.get_mut(&project) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_project.remove(&project);
            }
        }
    }

    fn drop_stream(&mut self, id: u64) {
        self.starting.remove(&id);
        let Some(entry) = self.streams.remove(&id) else { return };
        if let Some(membership) = entry.membership {
            for project in membership.projects {
                self.unfollow(project, id);
            }
        }
        if let Some(ids) = self.by_user.get_mut(&entry.user) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_user.remove(&entry.user);
            }
        }
    }
}
