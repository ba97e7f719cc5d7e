//! Memberships: add, change role, remove. `projects.member_count` follows by trigger.

use reelplan_domain::{MemberId, ProjectId, Role, UserId};
use reelplan_store::stats::run;
use reelplan_store::{Member, StoreResult, UserRef};
use sqlx::PgPool;

use super::now;

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

pub(crate) async fn add(
    pool: &PgPool,
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
    let Some(id) = run(ADD, query.fetch_optional(pool)).await? else {
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

pub(crate) async fn set_role(
    pool: &PgPool,
    project: ProjectId,
    member: MemberId,
    role: Role,
    by: UserId,
) -> StoreResult<Option<Member>> {
    let query = sqlx::query_scalar::<_, String>(SET_ROLE)
        .bind(project.0)
        .bind(member.0)
        .bind(role.as_str())
        .bind(by.0);
    let text = run(SET_ROLE, query.fetch_optional(pool)).await?;
    Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
}

pub(crate) async fn remove(
    pool: &PgPool,
    project: ProjectId,
    member: MemberId,
    by: UserId,
) -> StoreResult<Option<UserId>> {
    let query = sqlx::query_scalar::<_, i64>(REMOVE).bind(project.0).bind(member.0).bind(by.0);
    Ok(run(REMOVE, query.fetch_optional(pool)).await?.map(UserId))
}
