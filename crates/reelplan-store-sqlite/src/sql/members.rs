//! Members and access: who takes part in a project, with which role; add, change role, remove.
//! `projects.member_count` follows by trigger.

use async_trait::async_trait;
use reelplan_domain::{MemberId, ProjectId, Role, UserId};
use reelplan_store::stats::run;
use reelplan_store::{Member, Members, ProjectAccess, StoreResult, UserRef};
use serde::Deserialize;

use super::{fetch_opt_doc, now, time};
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

/// Adds user ?2 to project ?1 with role ?3 at ?4, if user ?5 is the owner, or a manager and
/// the role is not manager.
pub const ADD: &str = "
    INSERT INTO members (project_id, user_id, role, created)
    SELECT ?1, ?2, ?3, ?4
    WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = ?1 AND p.owner_id = ?5)
       OR (?3 <> 'manager' AND EXISTS (
            SELECT 1 FROM members c WHERE c.project_id = ?1 AND c.user_id = ?5 AND c.role = 'manager'))
    RETURNING id, created";

/// Gives membership ?2 of project ?1 the role ?3 if user ?4 may: the owner, or a manager when
/// neither the member's current role nor the new one is manager.
pub const SET_ROLE: &str = "
    UPDATE members SET role = ?3
    WHERE id = ?2 AND project_id = ?1 AND (
        EXISTS (SELECT 1 FROM projects p WHERE p.id = ?1 AND p.owner_id = ?4)
        OR (?3 <> 'manager' AND role <> 'manager' AND EXISTS (
            SELECT 1 FROM members c
            WHERE c.project_id = ?1 AND c.user_id = ?4 AND c.role = 'manager')))
    RETURNING json_object(
        'id', id, 'user_id', user_id,
        'email', (SELECT email FROM users WHERE users.id = members.user_id),
        'nickname', (SELECT nickname FROM users WHERE users.id = members.user_id),
        'role', role, 'created', created)";

/// Removes membership ?2 of project ?1 if user ?3 may: the member themself, the owner, or a
/// manager removing someone who is not a manager.
pub const REMOVE: &str = "
    DELETE FROM members
    WHERE id = ?2 AND project_id = ?1 AND (
        user_id = ?3
        OR EXISTS (SELECT 1 FROM projects p WHERE p.id = ?1 AND p.owner_id = ?3)
        OR (role <> 'manager' AND EXISTS (
            SELECT 1 FROM members c
            WHERE c.project_id = ?1 AND c.user_id = ?3 AND c.role = 'manager')))
    RETURNING user_id";

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
    ) -> StoreResult<Option<Member>> {
        let query = sqlx::query_as::<_, (i64, i64)>(ADD)
            .bind(project.0)
            .bind(user.id.0)
            .bind(role.as_str())
            .bind(now())
            .bind(by.0);
        let Some((id, created)) = run(ADD, query.fetch_optional(&self.pool)).await? else {
            return Ok(None);
        };
        Ok(Some(Member {
            id: MemberId(id),
            user_id: user.id,
            email: user.email.clone(),
            nickname: user.nickname.clone(),
            role,
            created: time(created)?,
        }))
    }

    async fn set_member_role(
        &self,
        project: ProjectId,
        member: MemberId,
        role: Role,
        by: UserId,
    ) -> StoreResult<Option<Member>> {
        fetch_opt_doc(&self.pool, SET_ROLE, |q| {
            q.bind(project.0).bind(member.0).bind(role.as_str()).bind(by.0)
        })
        .await
    }

    async fn remove_member(
        &self,
        project: ProjectId,
        member: MemberId,
        by: UserId,
    ) -> StoreResult<Option<UserId>> {
        let query = sqlx::query_scalar::<_, i64>(REMOVE).bind(project.0).bind(member.0).bind(by.0);
        Ok(run(REMOVE, query.fetch_optional(&self.pool)).await?.map(UserId))
    }
}
