//! What the cache holds, one value type per kind of document, and the typed view of the cache
//! the use cases read and fill it through.
//!
//! The cache itself stores one enum, [`Cached`]. Each kind's [`Doc`] names its key, scopes and
//! value type together, and [`Docs`] reads and fills only values of that type under it, so a
//! key never holds a value of another kind and a hit never has to check for fields that its
//! kind does not have. Should a value of another type turn up anyway (a bug), it is treated
//! as absent: the reader loads from the database instead of failing.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use reelplan_cache::{Cache, CacheValue, Found, Key, Outcome, Tag, Want};
use reelplan_domain::{ProjectId, Role, Timestamp};
use reelplan_store::{ListEntry, ProjectAccess};
use serde::{Deserialize, Serialize};

/// Ready-to-send JSON of a document that needs no access check of its own: a profile, a
/// project summary, a detail's feedback block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body(pub Bytes);

/// A project's document and who may read it: the detail without its feedback block, a page of
/// a thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Guarded {
    /// The bytes to send (for the detail: to splice `my_role` into).
    pub body: Bytes,
    /// Who may read it.
    pub access: Arc<ProjectAccess>,
}

/// A filtered list page and the projects it shows (checked against deletions on a hit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// The bytes to send.
    pub body: Bytes,
    /// The projects the page shows.
    pub project_ids: Arc<[i64]>,
}

/// A user's memberships in list order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memberships(pub Arc<[ListEntry]>);

/// Every value the cache holds.
#[derive(Debug, Clone)]
pub enum Cached {
    /// See [`Body`].
    Body(Body),
    /// See [`Guarded`].
    Guarded(Guarded),
    /// See [`ListPage`].
    ListPage(ListPage),
    /// See [`Memberships`].
    Memberships(Memberships),
}

/// A value type of one kind of document.
pub trait DocValue: Clone + Into<Cached> + Send + Sync + 'static {
    /// The value, when `cached` is of this type.
    fn from_cached(cached: Cached) -> Option<Self>;

    /// Projects whose deletion makes a cached copy of this value stale before its scopes say
    /// so (a filtered list page, cached under its reader's scope, not the projects').
    fn shows(&self) -> &[i64] {
        &[]
    }
}

macro_rules! kind {
    ($type:ident) => {
        impl From<$type> for Cached {
            fn from(value: $type) -> Self {
                Cached::$type(value)
            }
        }

        impl DocValue for $type {
            fn from_cached(cached: Cached) -> Option<Self> {
                match cached {
                    Cached::$type(value) => Some(value),
                    _ => None,
                }
            }

            kind!(@shows $type);
        }
    };
    (@shows ListPage) => {
        fn shows(&self) -> &[i64] {
            &self.project_ids
        }
    };
    (@shows $type:ident) => {};
}

kind!(Body);
kind!(Guarded);
kind!(ListPage);
kind!(Memberships);

/// One document: its key and scopes, and the type of value it holds.
#[derive(Debug, Clone)]
pub struct Doc<T> {
    /// The key and the scopes whose writes make it stale.
    pub want: Want,
    kind: PhantomData<fn() -> T>,
}

impl<T: DocValue> Doc<T> {
    /// The document under `want`, holding values of type `T`.
    pub fn new(want: Want) -> Self {
        Doc { want, kind: PhantomData }
    }

    /// Its key.
    pub fn key(&self) -> &Key {
        &self.want.key
    }

    /// A fill of `value`, read under `tag`, for [`Cache::fill`] (which takes documents of
    /// several kinds in one round trip).
    pub fn entry(&self, tag: Tag, value: T) -> (Key, Tag, Cached) {
        (self.want.key.clone(), tag, value.into())
    }

    /// What [`Cache::lookup`] found of this document, typed; None when it is of another type.
    pub fn found(&self, found: Found<Cached>) -> Option<Found<T>> {
        match found {
            Found::Hit(value, outcome) => T::from_cached(value).map(|v| Found::Hit(v, outcome)),
            Found::Miss(tag) => Some(Found::Miss(tag)),
        }
    }
}

/// The cache, seen through the value type `T` of the documents at hand.
pub struct Docs<'a, T> {
    cache: &'a Cache<Cached>,
    kind: PhantomData<fn() -> T>,
}

/// The typed view of `cache` for documents of type `T`.
pub fn docs<T: DocValue>(cache: &Cache<Cached>) -> Docs<'_, T> {
    Docs { cache, kind: PhantomData }
}

impl<T: DocValue> Docs<'_, T> {
    /// [`Cache::lookup`] of these documents; None when the cache cannot be used.
    pub async fn lookup(&self, docs: &[Doc<T>]) -> Option<Vec<Found<T>>> {
        let wants: Vec<Want> = docs.iter().map(|d| d.want.clone()).collect();
        let found = self.cache.lookup(&wants).await?;
        docs.iter().zip(found).map(|(doc, found)| doc.found(found)).collect()
    }

    /// [`Cache::held`]: the value another reader filled under `tag` meanwhile.
    pub async fn held(&self, doc: &Doc<T>, tag: Tag) -> Option<T> {
        self.cache.held(doc.key(), tag).await.and_then(T::from_cached)
    }

    /// [`Cache::peek`]: whatever L1 holds, whatever its tag.
    pub async fn peek(&self, doc: &Doc<T>) -> Option<T> {
        self.cache.peek(doc.key()).await.and_then(T::from_cached)
    }

    /// [`Cache::fill`] of these documents under the tags taken before their values were read.
    pub async fn fill(&self, fills: Vec<(&Doc<T>, Tag, T)>) {
        let fills = fills.into_iter().map(|(doc, tag, value)| doc.entry(tag, value));
        self.cache.fill(fills.collect()).await;
    }

    /// [`Cache::read`]: the document from the cache, or `load`ed and filled. A hit on a value
    /// that shows a project deleted since ([`DocValue::shows`], checked against the tombstones)
    /// is dropped and loaded again.
    pub async fn read<E, Fut>(
        &self,
        doc: &Doc<T>,
        load: impl Fn() -> Fut,
    ) -> Result<(T, Outcome), E>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let (value, outcome) =
            self.cache.read(doc.want.clone(), || async { load().await.map(Into::into) }).await?;
        let value = match T::from_cached(value) {
            Some(value) => value,
            None => return self.reload(doc, &load).await,
        };
        if !outcome.is_hit() || value.shows().is_empty() {
            return Ok((value, outcome));
        }
        match self.cache.any_buried(value.shows()).await {
            Some(false) => Ok((value, outcome)),
            Some(true) | None => self.reload(doc, &load).await,
        }
    }

    async fn reload<E, Fut>(&self, doc: &Doc<T>, load: impl Fn() -> Fut) -> Result<(T, Outcome), E>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        self.cache.forget(doc.key()).await;
        Ok((load().await?, Outcome::Miss))
    }
}

/// How a value travels through Redis: `[u8 variant][u32 header length][header JSON][body]`.
#[derive(Serialize, Deserialize, Default)]
struct Header {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access: Option<ProjectAccess>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    project_ids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    entries: Vec<(i64, Role, i64)>,
}

impl Cached {
    fn parts(&self) -> (u8, Header, &[u8]) {
        match self {
            Cached::Body(Body(body)) => (0, Header::default(), body),
            Cached::Guarded(doc) => {
                let header = Header { access: Some((*doc.access).clone()), ..Header::default() };
                (1, header, &doc.body)
            }
            Cached::ListPage(page) => {
                let header = Header { project_ids: page.project_ids.to_vec(), ..Header::default() };
                (2, header, &page.body)
            }
            Cached::Memberships(Memberships(entries)) => {
                let entries = entries
                    .iter()
                    .map(|e| (e.project_id.0, e.role, e.created.timestamp_micros()))
                    .collect();
                (3, Header { entries, ..Header::default() }, &[])
            }
        }
    }
}

impl CacheValue for Cached {
    fn weight(&self) -> usize {
        match self {
            Cached::Body(Body(body)) => body.len(),
            Cached::Guarded(doc) => doc.body.len() + 32 + 24 * doc.access.members.len(),
            Cached::ListPage(page) => page.body.len() + 8 * page.project_ids.len(),
            Cached::Memberships(Memberships(entries)) => 24 * entries.len(),
        }
    }

    fn encode(&self) -> Bytes {
        let (variant, header, body) = self.parts();
        let header = serde_json::to_vec(&header).unwrap_or_default();
        let mut out = BytesMut::with_capacity(5 + header.len() + body.len());
        out.put_u8(variant);
        out.put_u32(header.len() as u32);
        out.put_slice(&header);
        out.put_slice(body);
        out.freeze()
    }

    fn decode(bytes: Bytes) -> Option<Self> {
        let variant = *bytes.first()?;
        let len = u32::from_be_bytes(bytes.get(1..5)?.try_into().ok()?) as usize;
        let header: Header = serde_json::from_slice(bytes.get(5..5 + len)?).ok()?;
        let body = bytes.slice(5 + len..);
        Some(match variant {
            0 => Cached::Body(Body(body)),
            1 => Cached::Guarded(Guarded { body, access: Arc::new(header.access?) }),
            2 => Cached::ListPage(ListPage { body, project_ids: header.project_ids.into() }),
            3 => {
                let entries = header.entries.into_iter().map(|(id, role, micros)| {
                    let created = Timestamp::from_timestamp_micros(micros)?;
                    Some(ListEntry { project_id: ProjectId(id), role, created })
                });
                Cached::Memberships(Memberships(entries.collect::<Option<Vec<_>>>()?.into()))
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reelplan_domain::{MemberId, UserId};
    use reelplan_store::MemberAccess;

    fn round_trip<T: DocValue + PartialEq + std::fmt::Debug>(value: T) {
        let cached: Cached = value.clone().into();
        let back = Cached::decode(cached.encode()).expect("decodes");
        assert_eq!(T::from_cached(back), Some(value));
    }

    #[test]
    fn every_kind_round_trips_through_redis_bytes() {
        let access = ProjectAccess {
            owner_id: UserId(1),
            members: vec![MemberAccess {
                member_id: MemberId(3),
                user_id: UserId(2),
                role: Role::Editor,
            }],
        };
        round_trip(Body(Bytes::from_static(b"{\"result\":1}")));
        round_trip(Guarded { body: Bytes::from_static(b"{}"), access: Arc::new(access) });
        round_trip(ListPage { body: Bytes::from_static(b"[]"), project_ids: vec![4, 5].into() });
        let created = Timestamp::from_timestamp_micros(1_700_000_000_000_001).unwrap();
        let entry = ListEntry { project_id: ProjectId(4), role: Role::Viewer, created };
        round_trip(Memberships(vec![entry].into()));
    }

    #[test]
    fn bytes_of_another_shape_decode_to_nothing() {
        assert!(Cached::decode(Bytes::from_static(b"\x01\x00\x00\x00\x02{}")).is_none());
        assert!(Cached::decode(Bytes::from_static(b"\x09\x00\x00\x00\x02{}")).is_none());
        assert!(Cached::decode(Bytes::from_static(b"\x00\x00\x00\x00\x09{}")).is_none());
        let body = Cached::decode(Cached::from(Body(Bytes::from_static(b"x"))).encode());
        assert!(Guarded::from_cached(body.unwrap()).is_none(), "a body is not a guarded doc");
    }
}
