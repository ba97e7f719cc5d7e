//! Members and access: who takes part in a project, with which role; add, change role, remove.
//! `projects.member_count` follows by trigger. Each write records its event, its subject the
//! member's user.

use async_trait::async_trait;
use reelplan_domain::{MemberId, ProjectId, Role, UserId};
use reelplan_store::{Member, Members, ProjectAccess, Recorded, StoreResult, UserRef};

use super::{fetch_opt_doc, fetch_recorded, now};
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

/// `[id, event]`: adds user $2 to project $1 with role $3 at $4, if user $5 is the owner, or a
/// manager and the role is not manager, recording `member.added`.
pub const ADD: &str = concat!(
    "WITH m AS (
    INSERT INTO members (project_id, user_id, role, created)
    SELECT $1::bigint, $2::bigint, $3::text, $4::timestamptz
    WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = $1::bigint AND p.owner_id = $5::bigint)
       OR ($3::text <> 'manager' AND EXISTS (
            SELECT 1 FROM members c
            WHERE c.project_id = $1::bigint AND c.user_id = $5::bigint AND c.role = 'manager'))
    RETURNING id, project_id, user_id, created
), ",
    record_event!(
        "SELECT 'member.added', m.project_id, m.id, $5::bigint, m.user_id, m.created FROM m"
    ),
    "
SELECT json_build_array(m.id, ",
    event_doc!("ev"),
    ")::text FROM m, ev"
);

/// `[member, event]`: gives membership $2 of project $1 the role $3 at $5 if user $4 may: the
/// owner, or a manager when neither the member's current role nor the new one is manager.
pub const SET_ROLE: &str = concat!(
    "WITH m AS (
    UPDATE members m SET role = $3::text
    FROM users u
    WHERE m.id = $2::bigint AND m.project_id = $1::bigint AND u.id = m.user_id AND (
        EXISTS (SELECT 1 FROM projects p WHERE p.id = $1::bigint AND p.owner_id = $4::bigint)
        OR ($3::text <> 'manager' AND m.role <> 'manager' AND EXISTS (
            SELECT 1 FROM members c
            WHERE c.project_id = $1::bigint AND c.user_id = $4::bigint AND c.role = 'manager')))
    RETURNING m.id, m.project_id, m.user_id, u.email, u.nickname, m.role, m.created
), ",
    record_event!(
        "SELECT 'member.updated', m.project_id, m.id, $4::bigint, m.user_id, $5::timestamptz
    FROM m"
    ),
    "
SELECT json_build_array(json_build_object('id', m.id, 'user_id', m.user_id, 'email', m.email,
    'nickname', m.nickname, 'role', m.role, 'created', rp_us(m.created)), ",
    event_doc!("ev"),
    ")::text FROM m, ev"
);

/// `[user, event]`: removes membership $2 of project $1 at $4 if user $3 may: the member
/// themself, the owner, or a manager removing someone who is not a manager.
pub const REMOVE: &str = concat!(
    "WITH m AS (
    DELETE FROM members m
    WHERE m.id = $2::bigint AND m.project_id = $1::bigint AND (
        m.user_id = $3::bigint
        OR EXISTS (SELECT 1 FROM projects p WHERE p.id = $1::bigint AND p.owner_id = $3::bigint)
        OR (m.role <> 'manager' AND EXISTS (
            SELECT 1 FROM members c
            WHERE c.project_id = $1::bigint AND c.user_id = $3::bigint AND c.role = 'manager')))
    RETURNING m.id, m.project_id, m.user_id
), ",
    record_event!(
        "SELECT 'member.removed', m.project_id, m.id, $3::bigint, m.user_id, $4::timestamptz
    FROM m"
    ),
    "
SELECT json_build_array(m.user_id, ",
    event_doc!("ev"),
    ")::text FROM m, ev"
);

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
    ) -> StoreResult<Option<Recorded<Member>>> {
        let created = now();
        let added: Option<Recorded<i64>> = fetch_recorded(&self.pool, ADD, |q| {
            q.bind(project.0).bind(user.id.0).bind(role.as_str()).bind(created).bind(by.0)
        })
        .await?;
        Ok(added.map(|Recorded { value: id, event }| Recorded {
            value: Member {
                id: MemberId(id),
                user_id: user.id,
                email: user.email.clone(),
                nickname: user.nickname.clone(),
                role,
                created,
            },
            event,
        }))
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
