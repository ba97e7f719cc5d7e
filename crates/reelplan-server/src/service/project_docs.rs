//! A project's three cached documents and how responses are spliced from them:
//!
//! - its **summary** (the `project_summary` fields but `my_role`), shared by every member's list
//!   and moved on by the project scope;
//! - its **detail** without the feedback block (core fields, members, memos, files), under the
//!   project and attachments scopes, and carrying the access list a hit checks the caller
//!   against;
//! - the detail's **feedback block**, under the thread scope, so that a comment or a message
//!   reloads only that block.
//!
//! The caller's role is spliced in at response time, so one document serves every member.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use reelplan_cache::{Key, Kind, Scope, Want};
use reelplan_domain::{ProjectId, Role};
use reelplan_store::{
    FeedbackSummary, FileMeta, Member, Memo, ProjectAccess, ProjectCore, ProjectDetail,
};
use serde::Serialize;

use crate::cached::{Body, Doc, Guarded};
use crate::error::ApiError;
use crate::response::to_bytes;
use crate::state::AppState;

/// The summary of project `id`, as a list shows it.
pub(crate) fn summary_of(id: ProjectId) -> Doc<Body> {
    Doc::new(Want::new(Key::new(Kind::ProjectSummary, id.0), Scope::Project(id.0)))
}

/// The detail of project `id` without its feedback block.
pub(crate) fn core_of(id: ProjectId) -> Doc<Guarded> {
    let key = Key::new(Kind::ProjectDetail, id.0);
    Doc::new(Want::both(key, Scope::Project(id.0), Scope::Attachments(id.0)))
}

/// The feedback block of project `id`'s detail.
pub(crate) fn feedback_of(id: ProjectId) -> Doc<Body> {
    Doc::new(Want::new(Key::new(Kind::DetailFeedback, id.0), Scope::Thread(id.0)))
}

/// What a change to a project's versions or reviews moves on: its thread (the feedback block's
/// `current_version`, the version documents), its summary (`review`), and the filtered list
/// pages of its participants, which show the summary.
pub(crate) fn version_scopes(id: ProjectId, access: &ProjectAccess) -> Vec<Scope> {
    let mut scopes = vec![Scope::Thread(id.0), Scope::Project(id.0)];
    scopes.extend(super::list_scopes(access.participants()));
    scopes
}

/// The detail's fields but the feedback block, serialized in one go.
#[derive(Serialize)]
struct DetailCore<'a> {
    #[serde(flatten)]
    core: &'a ProjectCore,
    members: &'a [Member],
    memos: &'a [Memo],
    files: &'a [FileMeta],
}

/// A project's summary document.
pub(crate) fn summary_doc(core: &ProjectCore) -> Result<Body, ApiError> {
    Ok(Body(to_bytes(core)?))
}

/// A detail's feedback block document.
pub(crate) fn feedback_doc(feedback: &FeedbackSummary) -> Result<Body, ApiError> {
    Ok(Body(to_bytes(feedback)?))
}

/// The three documents of one project, built from its whole detail.
pub(crate) struct ProjectDocs {
    /// For lists.
    pub summary: Body,
    /// The detail without feedback, with the access list.
    pub core: Guarded,
    /// The feedback block.
    pub feedback: Body,
}

impl ProjectDocs {
    pub(crate) fn of(detail: &ProjectDetail) -> Result<Self, ApiError> {
        let core = DetailCore {
            core: &detail.core,
            members: &detail.members,
            memos: &detail.memos,
            files: &detail.files,
        };
        Ok(ProjectDocs {
            summary: summary_doc(&detail.core)?,
            core: Guarded { body: to_bytes(&core)?, access: Arc::new(detail.access()) },
            feedback: feedback_doc(&detail.feedback)?,
        })
    }

    /// The caller's detail response: 404 when they are not part of the project.
    pub(crate) fn respond(&self, caller: reelplan_domain::UserId) -> Result<Bytes, ApiError> {
        detail_body(&self.core, &self.feedback, caller)
    }
}

/// `{"result":{"my_role":..,<detail core>,"feedback":<block>}}` for `caller`, whose role the
/// core's access list gives; 404 when they have none.
pub(crate) fn detail_body(
    core: &Guarded,
    Body(feedback): &Body,
    caller: reelplan_domain::UserId,
) -> Result<Bytes, ApiError> {
    let role = core.access.role_of(caller).ok_or_else(ApiError::no_project)?;
    let fields = inner(&core.body);
    let mut out = BytesMut::with_capacity(core.body.len() + feedback.len() + 48);
    out.put_slice(b"{\"result\":{\"my_role\":\"");
    out.put_slice(role.as_str().as_bytes());
    out.put_slice(b"\",");
    out.put_slice(fields);
    out.put_slice(b",\"feedback\":");
    out.put_slice(feedback);
    out.put_slice(b"}}");
    Ok(out.freeze())
}

/// `{"result":[{"my_role":..,<summary>},..],"next_cursor":..}` from summaries and roles.
pub(crate) fn list_body<'a>(
    items: impl ExactSizeIterator<Item = (Role, &'a [u8])>,
    next_cursor: Option<&str>,
) -> Result<Bytes, ApiError> {
    let mut out = BytesMut::with_capacity(64 + items.len() * 1024);
    out.put_slice(b"{\"result\":[");
    for (i, (role, summary)) in items.enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        out.put_slice(b"{\"my_role\":\"");
        out.put_slice(role.as_str().as_bytes());
        out.put_slice(b"\",");
        out.put_slice(inner(summary));
        out.put_u8(b'}');
    }
    out.put_slice(b"],\"next_cursor\":");
    out.put_slice(&to_bytes(&next_cursor)?);
    out.put_u8(b'}');
    Ok(out.freeze())
}

/// The fields of a serialized JSON object, without its braces.
fn inner(object: &[u8]) -> &[u8] {
    object.get(1..object.len().saturating_sub(1)).unwrap_or_default()
}

/// After a write committed: moves `bump` on and takes the tags (one Redis round trip), reads
/// the detail back (one statement) and fills the project's three documents with it, under the
/// tags taken between the bump and the read,
/// the order of a read-through fill (DESIGN.md invariant 5), so the next reader, on any
/// instance, hits what this write already paid for.
/// None when the project is gone (deleted by a concurrent request).
pub(crate) async fn read_back(
    state: &AppState,
    id: ProjectId,
    bump: &[Scope],
) -> Result<Option<(ProjectDetail, ProjectDocs)>, ApiError> {
    let (summary, core, feedback) = (summary_of(id), core_of(id), feedback_of(id));
    let wants = [summary.want.clone(), core.want.clone(), feedback.want.clone()];
    let tags = state.cache.invalidate_then_tags(bump, &wants).await;
    let Some(detail) = state.store.project_detail(id).await? else {
        return Ok(None);
    };
    let docs = ProjectDocs::of(&detail)?;
    if let Some(tags) = tags {
        state
            .cache
            .fill(vec![
                summary.entry(tags[0], docs.summary.clone()),
                core.entry(tags[1], docs.core.clone()),
                feedback.entry(tags[2], docs.feedback.clone()),
            ])
            .await;
    }
    Ok(Some((detail, docs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spliced_bodies_are_the_json_the_contract_describes() {
        let core = Guarded {
            body: Bytes::from_static(br#"{"id":1,"name":"a"}"#),
            access: Arc::new(reelplan_store::ProjectAccess {
                owner_id: reelplan_domain::UserId(9),
                members: vec![],
            }),
        };
        let feedback = Body(Bytes::from_static(br#"{"comment_count":0}"#));
        let body = detail_body(&core, &feedback, reelplan_domain::UserId(9)).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"result": {"my_role": "owner", "id": 1, "name": "a",
                                          "feedback": {"comment_count": 0}}})
        );
        assert!(detail_body(&core, &feedback, reelplan_domain::UserId(8)).is_err());
        let items = [(Role::Viewer, &br#"{"id":2}"#[..]), (Role::Editor, &br#"{"id":1}"#[..])];
        let list = list_body(items.into_iter(), Some("c\"x")).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&list).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"result": [{"my_role": "viewer", "id": 2},
                                          {"my_role": "editor", "id": 1}],
                               "next_cursor": "c\"x"})
        );
        let empty = list_body(std::iter::empty(), None).unwrap();
        assert_eq!(&empty[..], br#"{"result":[],"next_cursor":null}"#);
    }
}
