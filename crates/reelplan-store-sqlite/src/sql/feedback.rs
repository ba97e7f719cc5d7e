//! The feedback thread: timecoded comments and chat messages.

use reelplan_domain::{CommentId, ProjectId, UserId};
use reelplan_store::stats::run;
use reelplan_store::{
    Comment, FeedbackSummary, Message, PageRequest, ProjectAccess, StoreResult, ThreadPage,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sqlx::SqlitePool;

use super::parse_opt;
use crate::{micros, now};

/// The comments of project ?1 after `(?2, ?3)`, oldest first, at most ?4, as a JSON array.
macro_rules! comment_items {
    () => {
        concat!(
            "json((
        SELECT json_group_array(json(doc) ORDER BY created, id) FROM (
            SELECT json_object('id', c.id, 'user', ",
            user_ref_json!(),
            ", 'text', c.text, 'timecode', c.timecode, 'created', c.created) AS doc,
                   c.created, c.id
            FROM comments c JOIN users u ON u.id = c.user_id
            WHERE c.project_id = ?1 AND (?2 IS NULL OR (c.created, c.id) > (?2, ?3))
            ORDER BY c.created, c.id
            LIMIT ?4)))"
        )
    };
}

/// A page of comments after `(?2, ?3)`, oldest first, with the access list.
pub(crate) const COMMENTS_PAGE: &str = concat!(
    "SELECT json_object('access', ",
    access_json!(),
    ", 'items', ",
    comment_items!(),
    ")
    FROM projects p WHERE p.id = ?1"
);

/// [`COMMENTS_PAGE`] (cursor ?2/?3 null for the first page) and the project's feedback block,
/// what a comment post reads back.
pub(crate) const COMMENTS_HEAD: &str = concat!(
    "SELECT json_object('access', ",
    access_json!(),
    ", 'items', ",
    comment_items!(),
    ", 'feedback', ",
    feedback_json!(),
    ")
    FROM projects p WHERE p.id = ?1"
);

/// A page of messages before `(?2, ?3)`, newest first, with the access list.
pub(crate) const MESSAGES_PAGE: &str = concat!(
    "SELECT json_object('access', ",
    access_json!(),
    ", 'items', json((
        SELECT json_group_array(json(doc) ORDER BY created DESC, id DESC) FROM (
            SELECT json_object('id', ms.id, 'user', ",
    user_ref_json!(),
    ", 'text', ms.text, 'created', ms.created) AS doc, ms.created, ms.id
            FROM messages ms JOIN users u ON u.id = ms.user_id
            WHERE ms.project_id = ?1 AND (?2 IS NULL OR (ms.created, ms.id) < (?2, ?3))
            ORDER BY ms.created DESC, ms.id DESC
            LIMIT ?4))))
    FROM projects p WHERE p.id = ?1"
);

#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct PageDoc<T> {
    access: ProjectAccess,
    items: Vec<T>,
}

async fn page<T: DeserializeOwned>(
    pool: &SqlitePool,
    sql: &'static str,
    project: ProjectId,
    page: PageRequest,
) -> StoreResult<Option<ThreadPage<T>>> {
    let query = sqlx::query_scalar::<_, String>(sql)
        .bind(project.0)
        .bind(page.after.map(|c| micros(c.created)))
        .bind(page.after.map(|c| c.id))
        .bind(i64::from(page.limit));
    let doc: Option<PageDoc<T>> = parse_opt(run(sql, query.fetch_optional(pool)).await?)?;
    Ok(doc.map(|doc| ThreadPage { access: doc.access, items: doc.items }))
}

#[derive(Deserialize)]
struct HeadDoc {
    access: ProjectAccess,
    items: Vec<Comment>,
    feedback: FeedbackSummary,
}

/// The first `limit` comments with the access list, and the feedback block; None when the
/// project does not exist.
pub async fn comments_head(
    pool: &SqlitePool,
    project: ProjectId,
    limit: u32,
) -> StoreResult<Option<(ThreadPage<Comment>, FeedbackSummary)>> {
    let query = sqlx::query_scalar::<_, String>(COMMENTS_HEAD)
        .bind(project.0)
        .bind(None::<i64>)
        .bind(None::<i64>)
        .bind(i64::from(limit));
    let doc: Option<HeadDoc> = parse_opt(run(COMMENTS_HEAD, query.fetch_optional(pool)).await?)?;
    Ok(doc.map(|d| (ThreadPage { access: d.access, items: d.items }, d.feedback)))
}

/// Comments oldest first; None when the project does not exist.
pub async fn comments_page(
    pool: &SqlitePool,
    project: ProjectId,
    request: PageRequest,
) -> StoreResult<Option<ThreadPage<Comment>>> {
    page(pool, COMMENTS_PAGE, project, request).await
}

/// Messages newest first; None when the project does not exist.
pub async fn messages_page(
    pool: &SqlitePool,
    project: ProjectId,
    request: PageRequest,
) -> StoreResult<Option<ThreadPage<Message>>> {
    page(pool, MESSAGES_PAGE, project, request).await
}

const ADD_COMMENT: &str = concat!(
    "
    INSERT INTO comments (project_id, user_id, text, timecode, created)
    SELECT ?1, ?2, ?3, ?4, ?5 WHERE ",
    takes_part!(),
    "
    RETURNING json_object(
        'id', id,
        'user', json((SELECT json_object('id', u.id, 'email', u.email, 'nickname', u.nickname)
                      FROM users u WHERE u.id = comments.user_id)),
        'text', text, 'timecode', timecode, 'created', created)"
);

/// Posts a comment if the author takes part in the project; None otherwise.
pub async fn add_comment(
    pool: &SqlitePool,
    project: ProjectId,
    author: UserId,
    text: &str,
    timecode: Option<f64>,
) -> StoreResult<Option<Comment>> {
    let query = sqlx::query_scalar::<_, String>(ADD_COMMENT)
        .bind(project.0)
        .bind(author.0)
        .bind(text)
        .bind(timecode)
        .bind(now());
    parse_opt(run(ADD_COMMENT, query.fetch_optional(pool)).await?)
}

const COMMENT_AUTHOR: &str = "SELECT user_id FROM comments WHERE id = ?2 AND project_id = ?1";

/// A comment's author; None when there is no such comment on this project.
pub async fn comment_author(
    pool: &SqlitePool,
    project: ProjectId,
    id: CommentId,
) -> StoreResult<Option<UserId>> {
    let query = sqlx::query_scalar::<_, i64>(COMMENT_AUTHOR).bind(project.0).bind(id.0);
    Ok(run(COMMENT_AUTHOR, query.fetch_optional(pool)).await?.map(UserId))
}

const DELETE_COMMENT: &str = "DELETE FROM comments WHERE id = ?2 AND project_id = ?1";

/// Deletes a comment; false when there was none on this project.
pub async fn delete_comment(
    pool: &SqlitePool,
    project: ProjectId,
    id: CommentId,
) -> StoreResult<bool> {
    let query = sqlx::query(DELETE_COMMENT).bind(project.0).bind(id.0);
    Ok(run(DELETE_COMMENT, query.execute(pool)).await?.rows_affected() > 0)
}

const ADD_MESSAGE: &str = concat!(
    "
    INSERT INTO messages (project_id, user_id, text, created)
    SELECT ?1, ?2, ?3, ?4 WHERE ",
    takes_part!(),
    "
    RETURNING json_object(
        'id', id,
        'user', json((SELECT json_object('id', u.id, 'email', u.email, 'nickname', u.nickname)
                      FROM users u WHERE u.id = messages.user_id)),
        'text', text, 'created', created)"
);

/// Posts a message if the author takes part in the project; None otherwise.
pub async fn add_message(
    pool: &SqlitePool,
    project: ProjectId,
    author: UserId,
    text: &str,
) -> StoreResult<Option<Message>> {
    let query = sqlx::query_scalar::<_, String>(ADD_MESSAGE)
        .bind(project.0)
        .bind(author.0)
        .bind(text)
        .bind(now());
    parse_opt(run(ADD_MESSAGE, query.fetch_optional(pool)).await?)
}
