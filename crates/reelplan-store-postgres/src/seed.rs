//! [`BulkLoad`] for PostgreSQL: one transaction, `COPY ... FROM STDIN` (text format) per table
//! and batch, secondary indexes dropped before and rebuilt after, sequences moved past the
//! loaded ids, then `VACUUM (ANALYZE)`.
//!
//! `member_count` stays right without special handling: the schema's statement-level trigger
//! on `members` fires once per `COPY` with the whole batch as its transition table.
//! `version_seq` has no trigger here (the request path moves it on in the insert of a
//! version): it is copied with the project row. Foreign keys stay enforced. This is tooling (`reelplan seed`), not request traffic, so its
//! statements do not go through the statement accounting of `reelplan_store::stats`.

use std::fmt::Write as _;

use async_trait::async_trait;
use reelplan_store::bulk::{
    Batches, BulkLoad, OnBatch, ProjectBatch, UserRow, PROJECT_COLUMNS as PROJECTS,
    VIDEO_CONTENT_TYPE,
};
use reelplan_store::StoreResult;
use sqlx::{Executor, PgConnection, Row};

use crate::PgStore;

/// Tables the seed fills, parents first (`files` holds the versions' videos).
const TABLES: [&str; 9] = [
    "users", "projects", "members", "files", "versions", "reviews", "comments", "messages", "memos",
];
/// Bytes buffered before a chunk is sent to `COPY`.
const CHUNK: usize = 1 << 20;

/// A row buffer in `COPY`'s text format.
#[derive(Default)]
struct CopyBuf {
    buf: String,
    first: bool,
}

impl CopyBuf {
    fn sep(&mut self) {
        if !self.first {
            self.buf.push('\t');
        }
        self.first = false;
    }
    fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{v}");
        self
    }
    fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => {
                self.sep();
                self.buf.push_str("\\N");
                self
            }
        }
    }
    fn float(&mut self, v: Option<f64>) -> &mut Self {
        self.sep();
        match v {
            Some(v) => {
                let _ = write!(self.buf, "{v}");
            }
            None => self.buf.push_str("\\N"),
        }
        self
    }
    fn text(&mut self, v: &str) -> &mut Self {
        self.sep();
        for c in v.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\t' => self.buf.push_str("\\t"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                c => self.buf.push(c),
            }
        }
        self
    }
    fn opt_text(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.text(v),
            None => {
                self.sep();
                self.buf.push_str("\\N");
                self
            }
        }
    }
    fn time(&mut self, micros: Option<i64>) -> &mut Self {
        self.sep();
        match micros.and_then(chrono::DateTime::from_timestamp_micros) {
            Some(t) => {
                let _ = write!(self.buf, "{}+00", t.naive_utc());
            }
            None => self.buf.push_str("\\N"),
        }
        self
    }
    fn end(&mut self) {
        self.buf.push('\n');
        self.first = true;
    }
}

/// Streams `rows` into `COPY <target> FROM STDIN`, `write` rendering one row.
async fn copy<T>(
    conn: &mut PgConnection,
    target: &str,
    rows: &[T],
    write: impl Fn(&mut CopyBuf, &T),
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut copy = conn.copy_in_raw(&format!("COPY {target} FROM STDIN")).await?;
    let mut buf = CopyBuf { buf: String::with_capacity(CHUNK + 4096), first: true };
    for row in rows {
        write(&mut buf, row);
        buf.end();
        if buf.buf.len() >= CHUNK {
            copy.send(std::mem::take(&mut buf.buf).into_bytes()).await?;
            buf.buf.reserve(CHUNK + 4096);
        }
    }
    if !buf.buf.is_empty() {
        copy.send(buf.buf.into_bytes()).await?;
    }
    copy.finish().await?;
    Ok(())
}

async fn copy_batch(conn: &mut PgConnection, batch: &ProjectBatch) -> StoreResult<()> {
    copy(conn, PROJECTS, &batch.projects, |b, p| {
        b.int(p.id).int(p.owner_id).text(&p.name).text(&p.manager).text(&p.consumer);
        b.text(&p.description).opt_text(p.color.as_deref());
        b.time(Some(p.created)).time(Some(p.updated)).int(p.version_seq);
        for (start, end) in p.phases {
            b.time(start).time(end);
        }
    })
    .await?;
    copy(conn, "members (id, project_id, user_id, role, created)", &batch.members, |b, m| {
        b.int(m.id).int(m.project_id).int(m.user_id).text(m.role.as_str()).time(Some(m.created));
    })
    .await?;
    // Parents first: a version needs its video, a review and a comment their version.
    let target = "files (id, project_id, kind, name, content_type, size, storage_key, created)";
    copy(conn, target, &batch.videos, |b, f| {
        b.int(f.id).int(f.project_id).text("video").text(&f.name).text(VIDEO_CONTENT_TYPE);
        b.int(f.size).text(&f.storage_key).time(Some(f.created));
    })
    .await?;
    let target =
        "versions (id, project_id, number, label, fps, duration, file_id, created_by, created)";
    copy(conn, target, &batch.versions, |b, v| {
        b.int(v.id).int(v.project_id).int(v.number).opt_text(v.label.as_deref());
        b.float(v.fps).float(v.duration).int(v.file_id).int(v.created_by);
        b.time(Some(v.created));
    })
    .await?;
    copy(
        conn,
        "reviews (id, version_id, user_id, status, note, updated)",
        &batch.reviews,
        |b, r| {
            b.int(r.id).int(r.version_id).int(r.user_id).text(r.status.as_str());
            b.opt_text(r.note.as_deref()).time(Some(r.updated));
        },
    )
    .await?;
    let target = "comments (id, project_id, user_id, text, timecode, version_id, created)";
    copy(conn, target, &batch.comments, |b, c| {
        b.int(c.id).int(c.project_id).int(c.user_id).text(&c.text).float(c.timecode);
        b.opt_int(c.version_id).time(Some(c.created));
    })
    .await?;
    copy(conn, "messages (id, project_id, user_id, text, created)", &batch.messages, |b, m| {
        b.int(m.id).int(m.project_id).int(m.user_id).text(&m.text).time(Some(m.created));
    })
    .await?;
    copy(conn, "memos (id, project_id, user_id, date, text, created)", &batch.memos, |b, m| {
        b.int(m.id).int(m.project_id).int(m.user_id).time(Some(m.date)).text(&m.text);
        b.time(Some(m.created));
    })
    .await
}

/// Secondary (non-constraint) indexes of the seeded tables: `(name, definition)`.
async fn secondary_indexes(conn: &mut PgConnection) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i \
         WHERE i.schemaname = current_schema() AND i.tablename = ANY($1) \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                           JOIN pg_namespace n ON n.oid = c.connamespace \
                           WHERE c.conname = i.indexname AND n.nspname = current_schema())",
    )
    .bind(&TABLES[..])
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

#[async_trait]
impl BulkLoad for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn user_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&self.pool).await?)
    }

    /// Empties the seeded tables and the event log (whose rows would name the ids the load
    /// gives again), its horizon back at 0.
    async fn clear(&self) -> StoreResult<()> {
        let sql = format!("TRUNCATE {}, events RESTART IDENTITY CASCADE", TABLES.join(", "));
        self.pool.execute(sql.as_str()).await?;
        self.pool.execute("UPDATE event_horizon SET pruned_through = 0").await?;
        Ok(())
    }

    async fn load(
        &self,
        users: &[UserRow],
        batches: &mut Batches,
        on_batch: OnBatch<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        (&mut *tx)
            .execute(
                "SET LOCAL statement_timeout = 0; SET LOCAL synchronous_commit = off; \
             SET LOCAL maintenance_work_mem = '256MB'",
            )
            .await?;
        let indexes = secondary_indexes(&mut tx).await?;
        for (name, _) in &indexes {
            // Names come from the catalog, not from input.
            (&mut *tx)
                .execute(format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")).as_str())
                .await?;
        }
        copy(
            &mut tx,
            "users (id, email, nickname, password_hash, created, updated)",
            users,
            |b, u| {
                b.int(u.id).text(&u.email).text(&u.nickname).text(&u.password_hash);
                b.time(Some(u.created)).time(Some(u.created));
            },
        )
        .await?;
        while let Some(batch) = batches.recv().await {
            copy_batch(&mut tx, &batch).await?;
            on_batch(batch.projects.len());
        }
        for (_, definition) in &indexes {
            (&mut *tx).execute(definition.as_str()).await?;
        }
        for table in &TABLES {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 coalesce(max(id), 0) + 1, false) FROM {table}"
            );
            (&mut *tx).execute(sql.as_str()).await?;
        }
        tx.commit().await?;
        let mut conn = self.pool.acquire().await?;
        (&mut *conn).execute("SET statement_timeout = 0").await?;
        let vacuum = format!("VACUUM (ANALYZE) {}", TABLES.join(", "));
        let result = (&mut *conn).execute(vacuum.as_str()).await.map(|_| ());
        (&mut *conn).execute("RESET statement_timeout").await?;
        Ok(result?)
    }
}
