//! The feedback thread: timecoded comments (oldest first) and chat messages (newest first).

use async_trait::async_trait;
use reelplan_domain::{CommentId, DiscussionText, ProjectId, Timecode, UserId};
use reelplan_store::stats::run;
use reelplan_store::{
    Comment, Feedback, FeedbackSummary, Message, PageRequest, ProjectAccess, StoreResult,
    ThreadPage,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{fetch_opt_doc, micros, now};
use crate::SqliteStore;

/// The comments of project ?1 after `(?2, ?3)`, oldest first, at most ?4, as a JSON array.
macro_rules! comment_items {
    () => {
        concat!(
            "json((
        SELECT json_group_array(json(doc) ORDER BY created, id) FROM (
            SELECT json_object('id', c.id, 'user', ",
            user_ref!(),
            ", 'text', c.text, 'timecode', c.timecode, 'created', c.created) AS doc,
                   c.created, c.id
            FROM comments c JOIN users u ON u.id = c.user_id
            WHERE c.project_id = ?1 AND (?2 IS NULL OR (c.created, c.id) > (?2, ?3))
            ORDER BY c.created, c.id
            LIMIT ?4)))"
        )
    };
}

/// `{access, items}` of project ?1: comments after cursor ?2/?3 (created, id), oldest first,
/// at most ?4.
pub const COMMENTS_PAGE: &str = concat!(
    "SELECT json_object('access', ",
    access_doc!(),
    ", 'items', ",
    comment_items!(),
    ")
    FROM projects p WHERE p.id = ?1"
);

/// [`COMMENTS_PAGE`] (cursor ?2/?3 null for the first page) and the project's feedback block,
/// what a comment post reads back.
pub const COMMENTS_HEAD: &str = concat!(
    "SELECT json_object('access', ",
    access_doc!(),
    ", 'items', ",
    comment_items!(),
    ", 'feedback', ",
    feedback_doc!(),
    ")
    FROM projects p WHERE p.id = ?1"
);

/// `{access, items}` of project ?1: messages before cursor ?2/?3 (created, id), newest first,
/// at most ?4.
pub const MESSAGES_PAGE: &str = concat!(
    "SELECT json_object('access', ",
    access_doc!(),
    ", 'items', json((
        SELECT json_group_array(json(doc) ORDER BY created DESC, id DESC) FROM (
            SELECT json_object('id', ms.id, 'user', ",
    user_ref!(),
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

/// A page of [`COMMENTS_PAGE`] or [`MESSAGES_PAGE`].
async fn page<T: DeserializeOwned>(
    store: &SqliteStore,
    sql: &'static str,
    project: ProjectId,
    page: PageRequest,
) -> StoreResult<Option<ThreadPage<T>>> {
    let doc: Option<PageDoc<T>> = fetch_opt_doc(&store.pool, sql, |q| {
        q.bind(project.0)
            .bind(page.after.map(|c| micros(c.created)))
            .bind(page.after.map(|c| c.id))
            .bind(i64::from(page.limit))
    })
    .await?;
    Ok(doc.map(|doc| ThreadPage { access: doc.access, items: doc.items }))
}

#[derive(Deserialize)]
struct HeadDoc {
    access: ProjectAccess,
    items: Vec<Comment>,
    feedback: FeedbackSummary,
}

/// Posts a comment on project ?1 by ?2: text ?3, timecode ?4, at ?5.
pub const ADD_COMMENT: &str = concat!(
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

/// The author of comment ?2 on project ?1.
pub const COMMENT_AUTHOR: &str = "SELECT user_id FROM comments WHERE id = ?2 AND project_id = ?1";

/// Deletes comment ?2 of project ?1.
pub const DELETE_COMMENT: &str = "DELETE FROM comments WHERE id = ?2 AND project_id = ?1";

/// Posts a message on project ?1 by ?2: text ?3, at ?4.
pub const ADD_MESSAGE: &str = concat!(
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

#[async_trait]
impl Feedback for SqliteStore {
    async fn comments_page(
        &self,
        project: ProjectId,
        request: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Comment>>> {
        page(self, COMMENTS_PAGE, project, request).await
    }

    async fn messages_page(
        &self,
        project: ProjectId,
        request: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Message>>> {
        page(self, MESSAGES_PAGE, project, request).await
    }

    async fn comments_head(
        &self,
        project: ProjectId,
        limit: u32,
    ) -> StoreResult<Option<(ThreadPage<Comment>, FeedbackSummary)>> {
        let doc: Option<HeadDoc> = fetch_opt_doc(&self.pool, COMMENTS_HEAD, |q| {
            q.bind(project.0).bind(None::<i64>).bind(None::<i64>).bind(i64::from(limit))
        })
        .await?;
        Ok(doc.map(|d| (ThreadPage { access: d.access, items: d.items }, d.feedback)))
    }

    async fn add_comment(
        &self,
        project: ProjectId,
        author: UserId,
        text: &DiscussionText,
        timecode: Option<Timecode>,
    ) -> StoreResult<Option<Comment>> {
        fetch_opt_doc(&self.pool, ADD_COMMENT, |q| {
            q.bind(project.0)
                .bind(author.0)
                .bind(text.as_str())
                .bind(timecode.map(Timecode::value))
                .bind(now())
        })
        .await
    }

    async fn comment_author(
        &self,
        project: ProjectId,
        id: CommentId,
    ) -> StoreResult<Option<UserId>> {
        let query = sqlx::query_scalar::<_, i64>(COMMENT_AUTHOR).bind(project.0).bind(id.0);
        Ok(run(COMMENT_AUTHOR, query.fetch_optional(&self.pool)).await?.map(UserId))
    }

    async fn delete_comment(&self, project: ProjectId, id: CommentId) -> StoreResult<bool> {
        let query = sqlx::query(DELETE_COMMENT).bind(project.0).bind(id.0);
        Ok(run(DELETE_COMMENT, query.execute(&self.pool)).await?.rows_affected() > 0)
    }

    async fn add_message(
        &self,
        project: ProjectId,
        author: UserId,
        text: &DiscussionText,
    ) -> StoreResult<Option<Message>> {
        fetch_opt_doc(&self.pool, ADD_MESSAGE, |q| {
            q.bind(project.0).bind(author.0).bind(text.as_str()).bind(now())
        })
        .await
    }
}
