//! Addresses of cached values ([`Key`]), what they depend on ([`Scope`], [`Want`]) and the
//! generations they were computed under ([`Tag`]).

use std::fmt::Write;
use std::sync::Arc;

use crate::Kind;

/// Something whose changes invalidate cached values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A user's profile.
    User(i64),
    /// A user's memberships: which projects their list shows, with their role, in list order.
    Memberships(i64),
    /// A user's filtered list pages (`?q=`, `?active_from=`, `?active_to=`): they depend on the
    /// fields of every project in the list, so every change to one of them moves this on.
    Lists(i64),
    /// What a project's summary shows (its fields, phases, owner and member count): the summary,
    /// and the detail without the feedback block.
    Project(i64),
    /// A project's memos and files: the detail without the feedback block.
    Attachments(i64),
    /// A project's feedback: thread pages and the detail's feedback block.
    Thread(i64),
    /// Who may read a project's thread (moves on with membership changes only).
    Access(i64),
    /// A project's event log: moves on with every write to the project.
    Activity(i64),
}

impl Scope {
    /// The suffix of the scope's generation key in Redis.
    pub(crate) fn write_key(self, out: &mut String) {
        let (tag, id) = match self {
            Scope::User(id) => ('u', id),
            Scope::Memberships(id) => ('m', id),
            Scope::Lists(id) => ('l', id),
            Scope::Project(id) => ('p', id),
            Scope::Attachments(id) => ('f', id),
            Scope::Thread(id) => ('t', id),
            Scope::Access(id) => ('a', id),
            Scope::Activity(id) => ('e', id),
        };
        let _ = write!(out, "{tag}:{id}");
    }
}

/// Where a value lives: its kind, an id (user or project), and for paged or filtered values
/// the rest of what tells them apart. Most hot keys are an id alone, so a lookup allocates
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The data kind (TTL, metrics label).
    pub kind: Kind,
    /// The user or project the value belongs to.
    pub id: i64,
    /// Page and filter parameters, when the value has them.
    pub rest: Option<Arc<str>>,
}

impl Key {
    /// A key that is an id alone.
    pub fn new(kind: Kind, id: i64) -> Self {
        Key { kind, id, rest: None }
    }

    /// A key with page or filter parameters.
    pub fn with(kind: Kind, id: i64, rest: impl Into<Arc<str>>) -> Self {
        Key { kind, id, rest: Some(rest.into()) }
    }

    /// The Redis key of the slot, under `namespace`.
    pub(crate) fn slot(&self, namespace: &str) -> String {
        let mut slot = String::with_capacity(namespace.len() + 32);
        let _ = write!(slot, "{namespace}:v:{}:{}", self.kind.as_str(), self.id);
        if let Some(rest) = &self.rest {
            slot.push(':');
            slot.push_str(rest);
        }
        slot
    }
}

/// One value a read wants: where it lives, and the one or two scopes it depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    /// Its address.
    pub key: Key,
    /// The scope whose changes invalidate it.
    pub scope: Scope,
    /// A second scope, for values that depend on two (a thread page and its access list).
    pub also: Option<Scope>,
}

impl Want {
    /// A value that depends on one scope.
    pub fn new(key: Key, scope: Scope) -> Self {
        Want { key, scope, also: None }
    }

    /// A value that depends on two scopes.
    pub fn both(key: Key, scope: Scope, also: Scope) -> Self {
        Want { key, scope, also: Some(also) }
    }

    pub(crate) fn scopes(&self) -> impl Iterator<Item = Scope> {
        std::iter::once(self.scope).chain(self.also)
    }
}

/// The epoch and the generations of a value's scopes at the time a read took them: a value is
/// served only to a read holding the same tag. Fixed-size and `Copy`, so comparing and storing
/// one allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    len: u8,
    words: [u64; 3],
}

impl Tag {
    /// The epoch followed by one generation per scope (at most two).
    pub(crate) fn new(epoch: u64, generations: impl IntoIterator<Item = u64>) -> Self {
        let mut tag = Tag { len: 1, words: [epoch, 0, 0] };
        for generation in generations {
            tag.words[usize::from(tag.len)] = generation;
            tag.len += 1;
        }
        tag
    }

    fn words(&self) -> &[u64] {
        &self.words[..usize::from(self.len)]
    }

    /// `[u8 count][count × u64 big-endian]`: how a tag prefixes a value in Redis.
    pub(crate) fn prefix(&self, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 8 * usize::from(self.len) + value.len());
        out.push(self.len);
        for word in self.words() {
            out.extend_from_slice(&word.to_be_bytes());
        }
        out.extend_from_slice(value);
        out
    }

    /// The value behind `stored` if it was tagged with this tag.
    pub(crate) fn strip(&self, stored: &bytes::Bytes) -> Option<bytes::Bytes> {
        let len = usize::from(*stored.first()?);
        let end = 1 + 8 * len;
        let words = stored.get(1..end)?;
        let same = len == usize::from(self.len)
            && words.chunks_exact(8).zip(self.words()).all(|(w, mine)| w == mine.to_be_bytes());
        same.then(|| stored.slice(end..))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn a_stored_value_answers_only_the_tag_it_was_stored_under() {
        let tag = Tag::new(1, [7, 3]);
        let stored = Bytes::from(tag.prefix(b"{\"result\":1}"));
        assert_eq!(tag.strip(&stored).as_deref(), Some(&b"{\"result\":1}"[..]));
        assert_eq!(Tag::new(1, [7, 4]).strip(&stored), None);
        assert_eq!(Tag::new(1, [7]).strip(&stored), None);
        assert_eq!(Tag::new(2, [7, 3]).strip(&stored), None);
        assert_eq!(tag.strip(&Bytes::from_static(b"\x02\x00")), None);
        assert_eq!(tag.strip(&Bytes::new()), None);
        let bare = Tag::new(9, []);
        assert_eq!(bare.strip(&Bytes::from(bare.prefix(b""))).as_deref(), Some(&b""[..]));
    }

    #[test]
    fn keys_and_scopes_spell_distinct_redis_keys() {
        let plain = Key::new(Kind::ProjectDetail, 12).slot("rp");
        let paged = Key::with(Kind::FeedbackThread, 12, "c:51:").slot("rp");
        assert_eq!(plain, "rp:v:project_detail:12");
        assert_eq!(paged, "rp:v:feedback_thread:12:c:51:");
        let mut seen = std::collections::HashSet::new();
        for scope in [
            Scope::User(1),
            Scope::Memberships(1),
            Scope::Lists(1),
            Scope::Project(1),
            Scope::Attachments(1),
            Scope::Thread(1),
            Scope::Access(1),
        ] {
            let mut key = String::new();
            scope.write_key(&mut key);
            assert!(seen.insert(key));
        }
    }
}
