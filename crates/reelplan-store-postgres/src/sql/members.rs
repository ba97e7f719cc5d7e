//! Members and access: who takes part in a project, with which role; add, change role, remove.
//! `projects.member_count` follows by trigger.

use async_trait::async_trait;
use reelplan_domain::{MemberId, ProjectId, Role, UserId};
use reelplan_store::stats::run;
use reelplan_store::{Member, Members, ProjectAccess, StoreResult, UserRef};

use super::{fetch_opt_doc, now};
use crate::PgStore;

/// The access list of project $1.
pub const ACCESS: &str =
    concat!("SELECT ", access_doc!(), "::text FROM projects p WHERE p.id = $1::bigint");

/// `[access, user or null]`: project $1's access list and the user with email $2.
pub const INVITE_CONTEXT: &str = concat!(
    "SELECT json_build_array(",
    access_doc!(),
    ", (SELECT ",
    user_ref!("u"),
    " FROM users u WHERE u.email = $2::text))::text
FROM projects p WHERE p.id = $1::bigint"
);

/// Adds user $2 to project $1 with role $3 at $4, if user $5 is the owner, or a manager and
/// the role is not manager.
pub const ADD: &str = "
INSERT INTO members (project_id, user_id, role, created)
SELECT $1::bigint, $2::bigint, $3::text, $4::timestamptz
WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = $1::bigint AND p.owner_id = $5::bigint)
   OR ($3::text <> 'manager' AND EXISTS (
        SELECT 1 FROM members c
        WHERE c.project_id = $1::bigint AND c.user_id = $5::bigint AND c.role = 'manager'))
RETURNING id";

/// Gives membership $2 of project $1 the role $3 if user $4 may: the owner, or a manager when
/// neither the member's current role nor the new one is manager.
pub const SET_ROLE: &str = "
UPDATE members m SET role = $3::text
FROM users u
WHERE m.id = $2::bigint AND m.project_id = $1::bigint AND u.id = m.user_id AND (
    EXISTS (SELECT 1 FROM projects p WHERE p.id = $1::bigint AND p.owner_id = $4::bigint)
    OR ($3::text <> 'manager' AND m.role <> 'manager' AND EXISTS (
        SELECT 1 FROM members c
        WHERE c.project_id = $1::bigint AND c.user_id = $4::bigint AND c.role = 'manager')))
RETURNING json_build_object('id', m.id, 'user_id', m.user_id, 'email', u.email,
    'nickname', u.nickname, 'role', m.role, 'created', rp_us(m.created))::text";

/// Removes membership $2 of project $1 if user $3 may: the member themself, the owner, or a
/// manager removing someone who is not a manager.
pub const REMOVE: &str = "
DELETE FROM members m
WHERE m.id = $2::bigint AND m.project_id = $1::bigint AND (
    m.user_id = $3::bigint
    OR EXISTS (SELECT 1 FROM projects p WHERE p.id = $1::bigint AND p.owner_id = $3::bigint)
    OR (m.role <> 'manager' AND EXISTS (
        SELECT 1 FROM members c
        WHERE c.project_id = $1::bigint AND c.user_id = $3::bigint AND c.role = 'manager')))
RETURNING m.user_id";

#[async_trait]
impl Members for PgStore {
    async fn access(&self, id: ProjectId) -> StoreResult<Option<ProjectAccess>> {
        fetch_opt_doc(&self.pool, ACCESS, |q| q.bind(id.0)).await
    }

    async fn invite_context(
        &self,
        id: ProjectId,
        email: &str,
    ) -> StoreResult<Option<(ProjectAccess, Option<UserRef>)>> {
        fetch_opt_doc(&self.pool, INVITE_CONTEXT, |q| q.bind(id.0).bind(email)).await
    }

    async fn add_member(
        &self,
        project: ProjectId,
        user: &UserRef,
        role: Role,
        by: UserId,
    ) -> StoreResult<Option<Member>> {
        let created = now();
        let query = sqlx::query_scalar::<_, i64>(ADD)
            .bind(project.0)
            .bind(user.id.0)
            .bind(role.as_str())
            .bind(created)
            .bind(by.0);
        let Some(id) = run(ADD, query.fetch_optional(&self.pool)).await? else {
            return Ok(None);
        };
        Ok(Some(Member {
            id: MemberId(id),
            user_id: user.id,
            email: user.email.clone(),
            nickname: user.nickname.clone(),
            role,
            created,
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
