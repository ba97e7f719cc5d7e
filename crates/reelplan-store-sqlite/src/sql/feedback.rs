//! The feedback thread: timecoded comments (oldest first) and chat messages (newest first).

use async_trait::async_trait;
use reelplan_domain::{CommentId, DiscussionText, ProjectId, Timecode, UserId};
use reelplan_store::stats::run;
use reelplan_store::{
    Annotation, Comment, CommentFilter, CommentPatch, Event, Feedback, FeedbackSummary, Message,
    NewComment, PageRequest, ProjectAccess, Recorded, StoreResult, ThreadPage,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{fetch_opt_doc, fetch_recorded, micros, now};
use crate::SqliteStore;

/// The comments of project ?1 after `(?2, ?3)`, oldest first, at most ?4, of version ?5 (any
/// when null) and resolved or not as ?6 says (either when null), as a JSON array. The page's
/// rows are chosen before their documents are built, in the aggregate itself.
macro_rules! comment_items {
    () => {
        concat!(
            "json((
        SELECT json_group_array(",
            joined_comment_doc!(),
            " ORDER BY c.created, c.id)
        FROM (SELECT * FROM comments pc
              WHERE pc.project_id = ?1 AND (?2 IS NULL OR (pc.created, pc.id) > (?2, ?3))
                AND (?5 IS NULL OR pc.version_id = ?5) AND (?6 IS NULL OR pc.resolved = ?6)
              ORDER BY pc.created, pc.id
              LIMIT ?4) c
        JOIN users u ON u.id = c.user_id
        LEFT JOIN users rb ON rb.id = c.resolved_by))"
        )
    };
}

/// `{access, items}` of project ?1: comments after cursor ?2/?3 (created, id), oldest first,
/// at most ?4, filtered by version ?5 and resolution ?6.
pub const COMMENTS_PAGE: &str = concat!(
    "SELECT json_object('access', ",
    access_doc!(),
    ", 'items', ",
    comment_items!(),
    ")
    FROM projects p WHERE p.id = ?1"
);

/// [`COMMENTS_PAGE`] (cursor ?2/?3 and filters ?5/?6 null: the first page of all) and the
/// project's feedback block, what a comment post reads back.
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

/// A page of [`MESSAGES_PAGE`].
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

/// `[comment, event]`: posts a comment on project ?1 by ?2: text ?3, timecode ?4 to ?5,
/// version ?6, parent ?7, annotation ?8, at ?9, recording `comment.created` (trigger
/// `comments_created_event`). Its version is its parent's, else ?6, else the project's current
/// one.
pub const ADD_COMMENT: &str = concat!(
    "
    INSERT INTO comments (project_id, user_id, text, timecode, timecode_end, version_id,
                          parent_id, annotation, created, changed_by)
    SELECT ?1, ?2, ?3, ?4, ?5,
           CASE WHEN ?7 IS NOT NULL THEN (SELECT pc.version_id FROM comments pc WHERE pc.id = ?7)
                WHEN ?6 IS NOT NULL THEN ?6
                ELSE (SELECT v.id FROM versions v WHERE v.project_id = ?1
                      ORDER BY v.number DESC LIMIT 1) END,
           ?7, ?8, ?9, ?2
    WHERE ",
    takes_part!(),
    "
      AND (?6 IS NULL OR EXISTS (SELECT 1 FROM versions v WHERE v.id = ?6 AND v.project_id = ?1))
      AND (?7 IS NULL OR EXISTS (
            SELECT 1 FROM comments pc
            WHERE pc.id = ?7 AND pc.project_id = ?1 AND pc.parent_id IS NULL
              AND (?6 IS NULL OR pc.version_id IS ?6)))
    RETURNING json_array(",
    comment_doc!("comments"),
    ", ",
    recorded_event!("'comment.created'", "project_id", "id", "changed_by", "NULL", "created"),
    ")"
);

/// `[comment, event]`: changes comment ?2 of project ?1 by ?5 at ?6: text ?3 (when not null;
/// `edited` at ?6 when it differs), resolved ?4 (when not null; by ?5 at ?6, kept from the
/// first resolution while it stays resolved), recording `comment.updated` (trigger
/// `comments_updated_event`), if ?5 may: its author while they take part, or (for a
/// resolution alone) an editor or above.
pub const UPDATE_COMMENT: &str = concat!(
    "
    UPDATE comments SET
        text = coalesce(?3, text),
        edited = CASE WHEN ?3 IS NOT NULL AND ?3 <> text THEN ?6 ELSE edited END,
        resolved = coalesce(?4, resolved),
        resolved_by = CASE WHEN ?4 IS NULL OR (?4 AND resolved) THEN resolved_by
                           WHEN ?4 THEN ?5 END,
        resolved_at = CASE WHEN ?4 IS NULL OR (?4 AND resolved) THEN resolved_at
                           WHEN ?4 THEN ?6 END,
        changed_by = ?5, changed_at = ?6
    WHERE id = ?2 AND project_id = ?1
      AND EXISTS (SELECT 1 FROM projects WHERE projects.id = ?1 AND (
          (comments.user_id = ?5 AND ",
    changed_by!("?5", "'viewer', 'editor', 'manager'"),
    ")
          OR (?3 IS NULL AND ",
    changed_by!("?5", "'editor', 'manager'"),
    ")))
    RETURNING json_array(",
    comment_doc!("comments"),
    ", ",
    recorded_event!("'comment.updated'", "project_id", "id", "changed_by", "NULL", "changed_at"),
    ")"
);

/// The author of comment ?2 on project ?1.
pub const COMMENT_AUTHOR: &str = "SELECT user_id FROM comments WHERE id = ?2 AND project_id = ?1";

/// The event of deleting comment ?2 of project ?1 by ?3 at ?4: trigger
/// `comments_deleted_event` records `comment.deleted` and deletes the row, its replies
/// following by cascade.
pub const DELETE_COMMENT: &str = concat!(
    "UPDATE comments SET deleted_by = ?3, changed_at = ?4 WHERE id = ?2 AND project_id = ?1
    RETURNING ",
    recorded_event!("'comment.deleted'", "project_id", "id", "deleted_by", "NULL", "changed_at")
);

/// `[message, event]`: posts a message on project ?1 by ?2: text ?3, at ?4, recording
/// `message.created` (trigger `messages_created_event`).
pub const ADD_MESSAGE: &str = concat!(
    "
    INSERT INTO messages (project_id, user_id, text, created, changed_by)
    SELECT ?1, ?2, ?3, ?4, ?2 WHERE ",
    takes_part!(),
    "
    RETURNING json_array(json_object(
        'id', id,
        'user', json((SELECT ",
    user_ref!(),
    " FROM users u WHERE u.id = messages.user_id)),
        'text', text, 'created', created), ",
    recorded_event!("'message.created'", "project_id", "id", "changed_by", "NULL", "created"),
    ")"
);

#[async_trait]
impl Feedback for SqliteStore {
    async fn comments_page(
        &self,
        project: ProjectId,
        filter: CommentFilter,
        page: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Comment>>> {
        let doc: Option<PageDoc<Comment>> = fetch_opt_doc(&self.pool, COMMENTS_PAGE, |q| {
            q.bind(project.0)
                .bind(page.after.map(|c| micros(c.created)))
                .bind(page.after.map(|c| c.id))
                .bind(i64::from(page.limit))
                .bind(filter.version.map(|v| v.0))
                .bind(filter.resolved)
        })
        .await?;
        Ok(doc.map(|doc| ThreadPage { access: doc.access, items: doc.items }))
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
            q.bind(project.0)
                .bind(None::<i64>)
                .bind(None::<i64>)
                .bind(i64::from(limit))
                .bind(None::<i64>)
                .bind(None::<bool>)
        })
        .await?;
        Ok(doc.map(|d| (ThreadPage { access: d.access, items: d.items }, d.feedback)))
    }

    async fn add_comment(
        &self,
        project: ProjectId,
        author: UserId,
        comment: &NewComment,
    ) -> StoreResult<Option<Recorded<Comment>>> {
        fetch_recorded(&self.pool, ADD_COMMENT, |q| {
            q.bind(project.0)
                .bind(author.0)
                .bind(comment.text.as_str())
                .bind(comment.timecode.map(Timecode::value))
                .bind(comment.timecode_end.map(Timecode::value))
                .bind(comment.version.map(|v| v.0))
                .bind(comment.parent.map(|c| c.0))
                .bind(comment.annotation.as_ref().map(Annotation::as_str))
                .bind(now())
        })
        .await
    }

    async fn update_comment(
        &self,
        project: ProjectId,
        id: CommentId,
        patch: &CommentPatch,
        by: UserId,
    ) -> StoreResult<Option<Recorded<Comment>>> {
        fetch_recorded(&self.pool, UPDATE_COMMENT, |q| {
            q.bind(project.0)
                .bind(id.0)
                .bind(patch.text.as_ref().map(DiscussionText::as_str))
                .bind(patch.resolved)
                .bind(by.0)
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

    async fn delete_comment(
        &self,
        project: ProjectId,
        id: CommentId,
        by: UserId,
    ) -> StoreResult<Option<Event>> {
        fetch_opt_doc(&self.pool, DELETE_COMMENT, |q| {
            q.bind(project.0).bind(id.0).bind(by.0).bind(now())
        })
        .await
    }

    async fn add_message(
        &self,
        project: ProjectId,
        author: UserId,
        text: &DiscussionText,
    ) -> StoreResult<Option<Recorded<Message>>> {
        fetch_recorded(&self.pool, ADD_MESSAGE, |q| {
            q.bind(project.0).bind(author.0).bind(text.as_str()).bind(now())
        })
        .await
    }
}
