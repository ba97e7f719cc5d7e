//! [`BulkLoad`] for SQLite: one transaction on one connection, multi-row `INSERT`s of as many
//! rows as SQLite's bound-parameter limit allows. Chunks of equal size share one statement text,
//! so sqlx prepares each shape once and reuses it.
//!
//! `member_count` is kept by the schema's row triggers, ids are explicit (AUTOINCREMENT moves
//! `sqlite_sequence` past them). `version_seq` goes in with the project row and the
//! `versions_number` trigger sets it again, to the same value, as each version goes in (one
//! primary-key update per version; the versions of a project come in ascending number, so the
//! last write is the highest). This is tooling (`reelplan seed`), not request traffic, so its
//! statements do not go through the statement accounting of `reelplan_store::stats`.

use async_trait::async_trait;
use reelplan_store::bulk::{
    Batches, BulkLoad, OnBatch, ProjectBatch, UserRow, PROJECT_COLUMNS as PROJECTS,
    VIDEO_CONTENT_TYPE,
};
use reelplan_store::StoreResult;
use sqlx::query_builder::Separated;
use sqlx::{Executor, QueryBuilder, Sqlite, SqliteConnection};

use crate::SqliteStore;

/// Bound parameters per statement, under SQLite's default limit of 32,766.
const MAX_PARAMS: usize = 30_000;

/// Inserts `rows` with `INSERT INTO <head> VALUES ...`, `push` binding one row's `cols` values.
async fn insert<'a, T>(
    conn: &mut SqliteConnection,
    head: &str,
    cols: usize,
    rows: &'a [T],
    push: impl Fn(&mut Separated<'_, 'a, Sqlite, &'static str>, &'a T) + Copy,
) -> StoreResult<()> {
    for chunk in rows.chunks(MAX_PARAMS / cols) {
        let mut builder = QueryBuilder::<Sqlite>::new(format!("INSERT INTO {head} "));
        builder.push_values(chunk, |mut b, row| push(&mut b, row));
        builder.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_batch(conn: &mut SqliteConnection, batch: &ProjectBatch) -> StoreResult<()> {
    insert(conn, PROJECTS, 26, &batch.projects, |b, p| {
        b.push_bind(p.id).push_bind(p.owner_id).push_bind(p.name.as_str());
        b.push_bind(p.manager.as_str()).push_bind(p.consumer.as_str());
        b.push_bind(p.description.as_str()).push_bind(p.color.as_deref());
        b.push_bind(p.created).push_bind(p.updated).push_bind(p.version_seq);
        for (start, end) in &p.phases {
            b.push_bind(*start).push_bind(*end);
        }
    })
    .await?;
    let head = "members (id, project_id, user_id, role, created)";
    insert(conn, head, 5, &batch.members, |b, m| {
        b.push_bind(m.id).push_bind(m.project_id).push_bind(m.user_id);
        b.push_bind(m.role.as_str()).push_bind(m.created);
    })
    .await?;
    // Parents first: a version needs its video, a review and a comment their version.
    let head = "files (id, project_id, kind, name, content_type, size, storage_key, created)";
    insert(conn, head, 8, &batch.videos, |b, f| {
        b.push_bind(f.id).push_bind(f.project_id).push_bind("video");
        b.push_bind(f.name.as_str()).push_bind(VIDEO_CONTENT_TYPE).push_bind(f.size);
        b.push_bind(f.storage_key.as_str()).push_bind(f.created);
    })
    .await?;
    let head =
        "versions (id, project_id, number, label, fps, duration, file_id, created_by, created)";
    insert(conn, head, 9, &batch.versions, |b, v| {
        b.push_bind(v.id).push_bind(v.project_id).push_bind(v.number);
        b.push_bind(v.label.as_deref()).push_bind(v.fps).push_bind(v.duration);
        b.push_bind(v.file_id).push_bind(v.created_by).push_bind(v.created);
    })
    .await?;
    let head = "reviews (id, version_id, user_id, status, note, updated)";
    insert(conn, head, 6, &batch.reviews, |b, r| {
        b.push_bind(r.id).push_bind(r.version_id).push_bind(r.user_id);
        b.push_bind(r.status.as_str()).push_bind(r.note.as_deref()).push_bind(r.updated);
    })
    .await?;
    let head = "comments (id, project_id, user_id, text, timecode, version_id, created)";
    insert(conn, head, 7, &batch.comments, |b, c| {
        b.push_bind(c.id).push_bind(c.project_id).push_bind(c.user_id);
        b.push_bind(c.text.as_str()).push_bind(c.timecode).push_bind(c.version_id);
        b.push_bind(c.created);
    })
    .await?;
    let head = "messages (id, project_id, user_id, text, created)";
    insert(conn, head, 5, &batch.messages, |b, m| {
        b.push_bind(m.id).push_bind(m.project_id).push_bind(m.user_id);
        b.push_bind(m.text.as_str()).push_bind(m.created);
    })
    .await?;
    let head = "memos (id, project_id, user_id, date, text, created)";
    insert(conn, head, 6, &batch.memos, |b, m| {
        b.push_bind(m.id).push_bind(m.project_id).push_bind(m.user_id);
        b.push_bind(m.date).push_bind(m.text.as_str()).push_bind(m.created);
    })
    .await
}

#[async_trait]
impl BulkLoad for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn user_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(self.pool()).await?)
    }

    async fn clear(&self) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        // Children first: reviews name users and versions, which hold comments and are held
        // by files (foreign keys are on). The event log goes too, with its horizon, so that the
        // id a write predicts for its event (from `sqlite_sequence`) stays the one it takes.
        let tables = [
            "events", "reviews", "comments", "versions", "files", "memos", "messages", "members",
            "projects", "users",
        ];
        for table in tables {
            (&mut *tx).execute(format!("DELETE FROM {table}").as_str()).await?;
        }
        (&mut *tx).execute("DELETE FROM sqlite_sequence").await?;
        (&mut *tx).execute("UPDATE event_horizon SET pruned_through = 0").await?;
        tx.commit().await?;
        Ok(())
    }

    async fn load(
        &self,
        users: &[UserRow],
        batches: &mut Batches,
        on_batch: OnBatch<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        let head = "users (id, email, nickname, password_hash, created, updated)";
        insert(&mut tx, head, 6, users, |b, u| {
            b.push_bind(u.id).push_bind(u.email.as_str()).push_bind(u.nickname.as_str());
            b.push_bind(u.password_hash.as_str()).push_bind(u.created).push_bind(u.created);
        })
        .await?;
        while let Some(batch) = batches.recv().await {
            insert_batch(&mut tx, &batch).await?;
            on_batch(batch.projects.len());
        }
        tx.commit().await?;
        self.pool().execute("ANALYZE").await?;
        Ok(())
    }
}
