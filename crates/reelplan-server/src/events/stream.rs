//! One client's stream: registered before its start is read (so nothing committed meanwhile
//! is missed), its replay or `reset`, then live frames and a keep-alive comment.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use futures::Stream;
use reelplan_domain::UserId;
use reelplan_store::Store;

use super::membership::Membership;
use super::registry::{frame_of, Frame, StreamHandle};
use super::Hub;
use reelplan_store::StoreError;

/// Why a stream could not start.
#[derive(Debug, thiserror::Error)]
pub enum StreamStartError {
    /// This instance holds its maximum of streams.
    #[error("this instance holds its maximum of open streams")]
    Full,
    /// The caller holds their maximum of streams.
    #[error("too many open streams for this user")]
    UserFull,
    /// Reading the start failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The first message of a stream that cannot replay what its client missed (older than the
/// log keeps, or more than a replay holds): the client reloads what it shows. Its id moves the
/// client's `Last-Event-ID` on, so that its next reconnect does not reset again.
fn reset_frame(id: i64) -> Bytes {
    Bytes::from(format!("id: {id}\nevent: reset\ndata: {{}}\n\n"))
}

const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// Opens a stream of `user`'s events, replaying those after `last_event_id`. Two statements at
/// most: one, the start (projects, horizon and replay together).
pub async fn open_stream(
    hub: &Arc<Hub>,
    store: &dyn Store,
    user: UserId,
    last_event_id: Option<i64>,
) -> Result<impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static, StreamStartError> {
    let handle = hub.registry.register(user)?;
    let limit = hub.config.replay_limit;
    let start = store.stream_start(user, last_event_id, limit.saturating_add(1)).await?;
    let mut first: Vec<Bytes> = Vec::new();
    let mut replayed = HashSet::new();
    if let Some(last) = last_event_id {
        if last < start.horizon || start.events.len() > limit as usize {
            let newest = start.events.last().map_or(0, |e| e.id);
            first.push(reset_frame(newest.max(start.horizon).max(hub.watermark()).max(last)));
        } else {
            for event in &start.events {
                replayed.insert(event.id);
                first.push(frame_of(event).bytes);
            }
        }
    }
    handle.start(Membership { user, projects: start.projects.into_iter().collect() });
    let mut keep_alive = tokio::time::interval(hub.config.keep_alive);
    keep_alive.reset();
    let live = Live { handle, replayed, keep_alive };
    let head = futures::stream::iter(first.into_iter().map(Ok));
    Ok(futures::StreamExt::chain(head, futures::stream::unfold(live, Live::next)))
}

struct Live {
    handle: StreamHandle,
    replayed: HashSet<i64>,
    keep_alive: tokio::time::Interval,
}

impl Live {
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Live)> {
        loop {
            tokio::select! {
                frame = self.handle.frames.recv() => {
                    let Frame { id, bytes } = frame?;
                    if self.replayed.remove(&id) {
                        continue;
                    }
                    self.keep_alive.reset();
                    return Some((Ok(bytes), self));
                }
                _ = self.keep_alive.tick() => {
                    return Some((Ok(Bytes::from_static(KEEP_ALIVE)), self));
                }
            }
        }
    }
}
