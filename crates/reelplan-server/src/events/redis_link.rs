//! Events between instances: each instance publishes its writes' events on one Redis channel
//! and holds one subscription to it, whose messages the [`Hub`] fans out to its streams.
//!
//! Fault model. A publish that fails is retried, in order, until Redis takes it (the write was
//! acknowledged long before: the event reaches the other instances late, never not at all).
//! A subscription that breaks (its connection fails, or a ping goes unanswered) is opened
//! again at once, and once it is, the events committed since the break are read from the log
//! and delivered (one statement per reconnect, not per stream; never from before where the log
//! stood when the instance started); the hub drops second copies. So Redis down delays events
//! across instances by the outage and loses none.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use redis::aio::ConnectionManager;
use reelplan_domain::UserId;
use reelplan_store::{Event, Store};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::Hub;

/// Events waiting to be published at most: a Redis down for long enough to fill it drops the
/// oldest ones' copies to the other instances (counted; their streams' clients still read
/// them from the log when they reconnect).
const OUTBOX: usize = 65_536;

/// Between pings of the subscription: how long a silently cut link can go unnoticed.
const PING_EVERY: Duration = Duration::from_secs(2);

/// Ids below the watermark still read back after a break: PostgreSQL may commit ids out of
/// order, so an event a little older than the newest one delivered may still be missing.
const OUT_OF_ORDER_MARGIN: i64 = 256;

/// The `op` label of a failed exchange in `reelplan_redis_errors_total`.
pub const LINK_OPERATION: &str = "events";

/// One message on the channel: the event, its subject (which the event's JSON leaves out)
/// and which instance sent it.
#[derive(Serialize, Deserialize)]
struct Message {
    from: u64,
    subject_id: Option<UserId>,
    event: Event,
}

/// The Redis side of a hub.
pub struct RedisLink {
    client: redis::Client,
    channel: String,
    instance: u64,
    timeout: Duration,
    outbox: mpsc::Sender<Arc<Event>>,
    waiting: Mutex<Option<mpsc::Receiver<Arc<Event>>>>,
    linked: Arc<AtomicBool>,
    sessions: Arc<AtomicU64>,
}

impl RedisLink {
    /// A link through the Redis at `url`, on the channel `<namespace>:events`; each exchange
    /// gives up after `timeout`.
    pub fn new(url: &str, namespace: &str, timeout: Duration) -> redis::RedisResult<Self> {
        let (outbox, waiting) = mpsc::channel(OUTBOX);
        Ok(RedisLink {
            client: redis::Client::open(url)?,
            channel: format!("{namespace}:events"),
            instance: rand::random(),
            timeout,
            outbox,
            waiting: Mutex::new(Some(waiting)),
            linked: Arc::default(),
            sessions: Arc::default(),
        })
    }

    /// Whether the subscription is up (and caught up) now.
    pub(super) fn linked(&self) -> bool {
        self.linked.load(Ordering::Acquire)
    }

    /// How many times the subscription has been opened since start-up (1 while it has never
    /// broken).
    pub(super) fn sessions(&self) -> u64 {
        self.sessions.load(Ordering::Acquire)
    }

    /// Queues an event for the other instances.
    pub(super) fn send(&self, event: Arc<Event>) {
        if self.outbox.try_send(event).is_err() {
            metrics::counter!("reelplan_events_unpublished_total").increment(1);
        }
    }

    /// Starts the publisher and the subscription (once; later calls do nothing).
    pub(super) fn start(&self, hub: Arc<Hub>, store: Arc<dyn Store>) {
        let Some(waiting) = self.waiting.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        match crate::redis_conn::connect(self.client.clone(), self.timeout) {
            Ok(conn) => {
                tokio::spawn(publish(conn, self.channel.clone(), self.instance, waiting));
            }
            Err(error) => tracing::error!(%error, "cannot publish events through Redis"),
        }
        let subscriber = Subscriber {
            client: self.client.clone(),
            channel: self.channel.clone(),
            instance: self.instance,
            timeout: self.timeout,
            linked: self.linked.clone(),
            sessions: self.sessions.clone(),
            hub,
            store,
        };
        tokio::spawn(subscriber.run());
    }
}

fn failed(what: &str, error: &dyn std::fmt::Display) {
    crate::redis_conn::failed(LINK_OPERATION, what, error);
}

/// Publishes queued events in order, each until Redis takes it.
async fn publish(
    mut conn: ConnectionManager,
    channel: String,
    instance: u64,
    mut waiting: mpsc::Receiver<Arc<Event>>,
) {
    while let Some(event) = waiting.recv().await {
        let message =
            Message { from: instance, subject_id: event.subject_id, event: (*event).clone() };
        let Ok(payload) = serde_json::to_string(&message) else { continue };
        let mut backoff = Duration::from_millis(50);
        loop {
            let sent = redis::cmd("PUBLISH")
                .arg(&channel)
                .arg(&payload)
                .query_async::<i64>(&mut conn)
                .await;
            match sent {
                Ok(_) => break,
                Err(error) => {
                    failed("publishing an event through Redis failed; retrying", &error);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}

struct Subscriber {
    client: redis::Client,
    channel: String,
    instance: u64,
    timeout: Duration,
    linked: Arc<AtomicBool>,
    sessions: Arc<AtomicU64>,
    hub: Arc<Hub>,
    store: Arc<dyn Store>,
}

impl Subscriber {
    async fn run(self) {
        // Where the log stood when this instance started: nothing before it can be missing
        // from a stream opened since, so no catch-up reads further back (however long the
        // link took to come up, or however few events this instance delivered itself).
        let floor = self.newest_at_start().await;
        // None until the first subscription: an instance that just started has no stream that
        // could have missed anything, unless its link is slow to come up (then `floor`).
        let mut resume_from: Option<i64> = None;
        let mut backoff = Duration::from_millis(50);
        loop {
            match self.subscribe().await {
                Ok(pubsub) => {
                    backoff = Duration::from_millis(50);
                    self.sessions.fetch_add(1, Ordering::AcqRel);
                    // Subscribed first, then read the log: nothing falls between the two.
                    if let Some(from) = resume_from {
                        self.catch_up(from).await;
                    }
                    self.linked.store(true, Ordering::Release);
                    self.listen(pubsub).await;
                    self.linked.store(false, Ordering::Release);
                    resume_from = Some(self.resume_point(floor));
                    // A link that just broke is tried again at once; the backoff is for a
                    // Redis that refuses.
                    continue;
                }
                Err(error) => {
                    failed("subscribing to events through Redis failed; retrying", &error);
                    resume_from.get_or_insert_with(|| self.resume_point(floor));
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    /// Where a catch-up starts: a margin below the newest id delivered here, never below
    /// where the log stood at start-up.
    fn resume_point(&self, floor: i64) -> i64 {
        (self.hub.watermark() - OUT_OF_ORDER_MARGIN).max(floor)
    }

    /// The log's newest id, read once at start-up (retried until the database answers).
    async fn newest_at_start(&self) -> i64 {
        loop {
            match self.store.newest_event_id().await {
                Ok(id) => return id,
                Err(error) => {
                    failed("reading the event log's newest id failed; retrying", &error);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    async fn subscribe(&self) -> redis::RedisResult<redis::aio::PubSub> {
        let connect = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(&self.channel).await?;
            Ok(pubsub)
        };
        match tokio::time::timeout(self.timeout, connect).await {
            Ok(result) => result,
            Err(_) => Err(redis::RedisError::from((redis::ErrorKind::Io, "timed out"))),
        }
    }

    /// Delivers messages until the link breaks.
    async fn listen(&self, pubsub: redis::aio::PubSub) {
        let (mut sink, mut messages) = pubsub.split();
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.reset();
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else {
                        failed("the Redis event subscription closed", &"end of stream");
                        return;
                    };
                    self.receive(message.get_payload_bytes());
                }
                _ = ping.tick() => {
                    // Subscribed (RESP2), Redis answers a PING with `["pong", ""]`, not
                    // `PONG`: any reply proves the link (read as a String, none would, and
                    // the link was dropped and caught up from the log every PING_EVERY).
                    let pong =
                        tokio::time::timeout(self.timeout, sink.ping::<redis::Value>()).await;
                    if !matches!(pong, Ok(Ok(_))) {
                        failed("the Redis event subscription stopped answering", &"ping");
                        return;
                    }
                }
            }
        }
    }

    fn receive(&self, payload: &[u8]) {
        let Ok(message) = serde_json::from_slice::<Message>(payload) else {
            failed("an unreadable event message on the Redis channel", &"bad payload");
            return;
        };
        if message.from == self.instance {
            return;
        }
        let mut event = message.event;
        event.subject_id = message.subject_id;
        self.hub.deliver(&Arc::new(event));
    }

    /// Delivers the log's events after `from`, page by page.
    async fn catch_up(&self, mut from: i64) {
        const PAGE: u32 = 1000;
        loop {
            match self.store.events_after(from, PAGE).await {
                Ok(events) => {
                    let last = events.last().map(|e| e.id);
                    let whole = events.len() == PAGE as usize;
                    for event in events {
                        self.hub.deliver(&Arc::new(event));
                    }
                    match last {
                        Some(last) if whole => from = last,
                        _ => return,
                    }
                }
                Err(error) => {
                    failed("catching up on events from the log failed; retrying", &error);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
}
