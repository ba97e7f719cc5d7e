//! Members and access: who takes part in a project, with which role; add, change role, remove.
//! `projects.member_count` follows by trigger. Each write records its event, its subject the
//! member's user.

use async_trait::async_trait;
use reelplan_domain::{MemberId, ProjectId, Role, UserId};
use reelplan_store::{Member, Members, ProjectAccess, Recorded, StoreResult, UserRef};
use serde::Deserialize;

use super::{fetch_opt_doc, fetch_recorded, now, time};
use crate::SqliteStore;

/// The access list of project ?1.
pub const ACCESS: &str = concat!("SELECT ", access_doc!(), " FROM projects p WHERE p.id = ?1");

/// `{access, user}`: project ?1's access list and the user with email ?2 (or null).
pub const INVITE_CONTEXT: &str = concat!(
    "SELECT json_object('access', ",
    access_doc!(),
    ", 'user', json((SELECT ",
    user_ref!(),
    " FROM users u WHERE u.email = ?2)))
    FROM projects p WHERE p.id = ?1"
);

#[derive(Deserialize)]
struct InviteDoc {
    access: ProjectAccess,
    user: Option<UserRef>,
}

/// `[id, event]`: adds user ?2 to project ?1 with role ?3 at ?4, if user ?5 is the owner, or a
/// manager and the role is not manager, recording `member.added` (trigger
/// `members_added_event`).
pub const ADD: &str = concat!(
    "
    INSERT INTO members (project_id, user_id, role, created, changed_by)
    SELECT ?1, ?2, ?3, ?4, ?5
    WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = ?1 AND p.owner_id = ?5)
       OR (?3 <> 'manager' AND EXISTS (
            SELECT 1 FROM members c WHERE c.project_id = ?1 AND c.user_id = ?5 AND c.role = 'manager'))
    RETURNING json_array(id, ",
    recorded_event!("'member.added'", "project_id", "id", "changed_by", "user_id", "created"),
    ")"
);

/// `[member, event]`: gives membership ?2 of project ?1 the role ?3 at ?5 if user ?4 may: the
/// owner, or a manager when neither the member's current role nor the new one is manager,
/// recording `member.updated` (trigger `members_updated_event`).
pub const SET_ROLE: &str = concat!(
    "
    UPDATE members SET role = ?3, changed_by = ?4, changed_at = ?5
    WHERE id = ?2 AND project_id = ?1 AND (
        EXISTS (SELECT 1 FROM projects p WHERE p.id = ?1 AND p.owner_id = ?4)
        OR (?3 <> 'manager' AND role <> 'manager' AND EXISTS (
            SELECT 1 FROM members c
            WHERE c.project_id = ?1 AND c.user_id = ?4 AND c.role = 'manager')))
    RETURNING json_array(json_object(
        'id', id, 'user_id', user_id,
        'email', (SELECT email FROM users WHERE users.id = members.user_id),
        'nickname', (SELECT nickname FROM users WHERE users.id = members.user_id),
        'role', role, 'created', created), ",
    recorded_event!("'member.updated'", "project_id", "id", "changed_by", "user_id", "changed_at"),
    ")"
);

/// `[user, event]`: removes membership ?2 of project ?1 at ?4 if user ?3 may: the member
/// themself, the owner, or a manager removing someone who is not a manager. Trigger
/// `members_removed_event` records `member.removed` and deletes the row.
pub const REMOVE: &str = concat!(
    "
    UPDATE members SET deleted_by = ?3, changed_at = ?4
    WHERE id = ?2 AND project_id = ?1 AND (
        user_id = ?3
        OR EXISTS (SELECT 1 FROM projects p WHERE p.id = ?1 AND p.owner_id = ?3)
        OR (role <> 'manager' AND EXISTS (
            SELECT 1 FROM members c
            WHERE c.project_id = ?1 AND c.user_id = ?3 AND c.role = 'manager')))
    RETURNING json_array(user_id, ",
    recorded_event!("'member.removed'", "project_id", "id", "deleted_by", "user_id", "changed_at"),
    ")"
);

#[async_trait]
impl Members for SqliteStore {
    async fn access(&self, id: ProjectId) -> StoreResult<Option<ProjectAccess>> {
        fetch_opt_doc(&self.pool, ACCESS, |q| q.bind(id.0)).await
    }

    async fn invite_context(
        &self,
        id: ProjectId,
        email: &str,
    ) -> StoreResult<Option<(ProjectAccess, Option<UserRef>)>> {
        let doc: Option<InviteDoc> =
            fetch_opt_doc(&self.pool, INVITE_CONTEXT, |q| q.bind(id.0).bind(email)).await?;
        Ok(doc.map(|doc| (doc.access, doc.user)))
    }

    async fn add_member(
        &self,
        project: ProjectId,
        user: &UserRef,
        role: Role,
        by: UserId,
    ) -> StoreResult<Option<Recorded<Member>>> {
        let created = now();
        let added: Option<Recorded<i64>> = fetch_recorded(&self.pool, ADD, |q| {
            q.bind(project.0).bind(user.id.0).bind(role.as_str()).bind(created).bind(by.0)
        })
        .await?;
        added
            .map(|Recorded { value: id, event }| {
                Ok(Recorded {
                    value: Member {
                        id: MemberId(id),
                        user_id: user.id,
                        email: user.email.clone(),
                        nickname: user.nickname.clone(),
                        role,
                        created: time(created)?,
                    },
                    event,
                })
            })
            .transpose()
    }

    async fn set_member_role(
        &self,
        project: ProjectId,
        member: MemberId,
        role: Role,
        by: UserId,
    ) -> StoreResult<Option<Recorded<Member>>> {
        fetch_recorded(&self.pool, SET_ROLE, |q| {
            q.bind(project.0).bind(member.0).bind(role.as_str()).bind(by.0).bind(now())
        })
        .await
    }

    async fn remove_member(
        &self,
        project: ProjectId,
        member: MemberId,
        by: UserId,
    ) -> StoreResult<Option<Recorded<UserId>>> {
        fetch_recorded(&self.pool, REMOVE, |q| {
            q.bind(project.0).bind(member.0).bind(by.0).bind(now())
        })
        .await
    }
}
