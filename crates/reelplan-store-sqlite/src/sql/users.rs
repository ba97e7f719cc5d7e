//! Users: signup, login, profile, and what a profile change touches.

use reelplan_domain::{ProjectId, UserId};
use reelplan_store::stats::run;
use reelplan_store::{Credentials, Footprint, StoreResult, User};
use serde::Deserialize;
use sqlx::SqlitePool;

use super::parse;
use crate::{now, time};

type UserRow = (i64, String, String, i64);

fn user(row: UserRow) -> StoreResult<User> {
    let (id, email, nickname, created) = row;
    Ok(User { id: UserId(id), email, nickname, created: time(created)? })
}

const CREATE: &str = "
    INSERT INTO users (email, nickname, password_hash, created, updated)
    VALUES (?1, ?2, ?3, ?4, ?4)
    RETURNING id, email, nickname, created";

/// Inserts a user; a taken email is a unique violation, hence `Conflict`.
pub async fn create(
    pool: &SqlitePool,
    email: &str,
    nickname: &str,
    hash: &str,
) -> StoreResult<User> {
    let query =
        sqlx::query_as::<_, UserRow>(CREATE).bind(email).bind(nickname).bind(hash).bind(now());
    user(run(CREATE, query.fetch_one(pool)).await?)
}

const CREDENTIALS: &str = "
    SELECT id, email, nickname, created, password_hash FROM users WHERE email = ?1";

/// The user with this email and their password hash.
pub async fn credentials(pool: &SqlitePool, email: &str) -> StoreResult<Option<Credentials>> {
    let query = sqlx::query_as::<_, (i64, String, String, i64, String)>(CREDENTIALS).bind(email);
    run(CREDENTIALS, query.fetch_optional(pool))
        .await?
        .map(|(id, email, nickname, created, password_hash)| {
            Ok(Credentials { user: user((id, email, nickname, created))?, password_hash })
        })
        .transpose()
}

const BY_ID: &str = "SELECT id, email, nickname, created FROM users WHERE id = ?1";

/// A user by id.
pub async fn by_id(pool: &SqlitePool, id: UserId) -> StoreResult<Option<User>> {
    let query = sqlx::query_as::<_, UserRow>(BY_ID).bind(id.0);
    run(BY_ID, query.fetch_optional(pool)).await?.map(user).transpose()
}

const SET_NICKNAME: &str = "
    UPDATE users SET nickname = ?2, updated = ?3 WHERE id = ?1
    RETURNING id, email, nickname, created";

/// Changes a nickname; None when there is no such user.
pub async fn set_nickname(
    pool: &SqlitePool,
    id: UserId,
    nickname: &str,
) -> StoreResult<Option<User>> {
    let query = sqlx::query_as::<_, UserRow>(SET_NICKNAME).bind(id.0).bind(nickname).bind(now());
    run(SET_NICKNAME, query.fetch_optional(pool)).await?.map(user).transpose()
}

pub(crate) const FOOTPRINT: &str = "
    SELECT json_object(
        'projects', json((
            SELECT json_group_array(project_id ORDER BY project_id) FROM (
                SELECT id AS project_id FROM projects WHERE owner_id = ?1
                UNION SELECT project_id FROM members WHERE user_id = ?1
                UNION SELECT project_id FROM comments WHERE user_id = ?1
                UNION SELECT project_id FROM messages WHERE user_id = ?1))),
        'list_viewers', json((
            SELECT json_group_array(user_id ORDER BY user_id) FROM (
                SELECT owner_id AS user_id FROM projects WHERE owner_id = ?1
                UNION SELECT m.user_id FROM projects p JOIN members m ON m.project_id = p.id
                      WHERE p.owner_id = ?1))))";

#[derive(Deserialize)]
struct FootprintDoc {
    projects: Vec<ProjectId>,
    list_viewers: Vec<UserId>,
}

/// Projects the user owns, belongs to or wrote in; owners and members of the projects they own.
pub async fn footprint(pool: &SqlitePool, id: UserId) -> StoreResult<Footprint> {
    let query = sqlx::query_scalar::<_, String>(FOOTPRINT).bind(id.0);
    let doc: FootprintDoc = parse(&run(FOOTPRINT, query.fetch_one(pool)).await?)?;
    Ok(Footprint { projects: doc.projects, list_viewers: doc.list_viewers })
}
