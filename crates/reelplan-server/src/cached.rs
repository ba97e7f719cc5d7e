//! What the cache holds: response bytes (or parts of them), plus what a hit needs to check
//! access without SQL, and a user's membership list.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use reelplan_cache::CacheValue;
use reelplan_domain::{ProjectId, Role};
use reelplan_store::{ListEntry, ProjectAccess};
use serde::{Deserialize, Serialize};

/// A cached document: ready-to-send JSON, the project's access list when the document belongs
/// to a project, and the projects a list page holds (checked against deletions on a hit).
#[derive(Debug, Clone, Default)]
pub struct CachedDoc {
    /// The bytes to send (or, for a project detail, to splice `my_role` into).
    pub body: Bytes,
    /// Who may read it, for project documents.
    pub access: Option<Arc<ProjectAccess>>,
    /// The projects a filtered list page shows (checked against deletions on a hit).
    pub project_ids: Arc<[i64]>,
    /// A user's memberships in list order (the `memberships` kind).
    pub entries: Arc<[ListEntry]>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    access: Option<ProjectAccess>,
    project_ids: Vec<i64>,
    #[serde(default)]
    entries: Vec<(i64, Role, i64)>,
}

impl CacheValue for CachedDoc {
    fn weight(&self) -> usize {
        let access = self.access.as_ref().map_or(0, |a| 32 + 24 * a.members.len());
        self.body.len() + access + 8 * self.project_ids.len() + 24 * self.entries.len()
    }

    /// `[u32 header length][header JSON][body]`.
    fn encode(&self) -> Bytes {
        let header = Header {
            access: self.access.as_deref().cloned(),
            project_ids: self.project_ids.to_vec(),
            entries: self
                .entries
                .iter()
                .map(|e| (e.project_id.0, e.role, e.created.timestamp_micros()))
                .collect(),
        };
        let header = serde_json::to_vec(&header).unwrap_or_default();
        let mut out = BytesMut::with_capacity(4 + header.len() + self.body.len());
        out.put_u32(header.len() as u32);
        out.put_slice(&header);
        out.put_slice(&self.body);
        out.freeze()
    }

    fn decode(bytes: Bytes) -> Option<Self> {
        let len = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        let header: Header = serde_json::from_slice(bytes.get(4..4 + len)?).ok()?;
        let entries = header.entries.into_iter().map(|(id, role, micros)| {
            let created = reelplan_domain::Timestamp::from_timestamp_micros(micros)?;
            Some(ListEntry { project_id: ProjectId(id), role, created })
        });
        Some(CachedDoc {
            body: bytes.slice(4 + len..),
            access: header.access.map(Arc::new),
            project_ids: header.project_ids.into(),
            entries: entries.collect::<Option<Vec<_>>>()?.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reelplan_domain::{MemberId, Role, UserId};
    use reelplan_store::MemberAccess;

    #[test]
    fn round_trips_through_redis_bytes() {
        let access = ProjectAccess {
            owner_id: UserId(1),
            members: vec![MemberAccess {
                member_id: MemberId(3),
                user_id: UserId(2),
                role: Role::Editor,
            }],
        };
        let doc = CachedDoc {
            body: Bytes::from_static(b"{\"result\":1}"),
            access: Some(Arc::new(access)),
            project_ids: vec![4, 5].into(),
            entries: vec![ListEntry {
                project_id: ProjectId(4),
                role: Role::Viewer,
                created: reelplan_domain::Timestamp::from_timestamp_micros(1_700_000_000_000_001)
                    .unwrap(),
            }]
            .into(),
        };
        let back = CachedDoc::decode(doc.encode()).unwrap();
        assert_eq!(back.body, doc.body);
        assert_eq!(back.access, doc.access);
        assert_eq!(&*back.project_ids, &[4, 5]);
        assert_eq!(back.entries, doc.entries);
        assert!(CachedDoc::decode(Bytes::from_static(b"\x00\x00\x00\x09{}")).is_none());
    }
}
