//! reelplan's embedded store: SQLite through sqlx, one file under `./data` by default.
//!
//! Every [`Store`] method runs exactly one SQL statement through [`reelplan_store::stats::run`].
//! Read documents are assembled in SQL with SQLite's JSON functions (times as integer
//! microseconds) and parsed into the models of [`reelplan_store::model`]; derived columns
//! (`earliest_start_date`, `latest_end_date`, `member_count`) are kept by generated columns and
//! triggers, so no write needs a second statement or a transaction.

#[macro_use]
mod fragments;
pub mod seed;
mod sql;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use reelplan_domain::{
    CommentId, FileId, MemberId, MemoId, Phase, PhaseDates, ProjectId, Role, Timestamp, UserId,
};
use reelplan_store::prelude::*;
use reelplan_store::stats;
use reelplan_store::{
    Comment, Credentials, FeedbackSummary, FileAccess, FileMeta, Footprint, Member, MembershipPage,
    Memo, Message, NewFile, NewProject, PageRequest, PoolStatus, ProjectAccess, ProjectCore,
    ProjectDetail, ProjectFilter, ProjectPatch, ProjectSummary, StoreError, StoreResult,
    ThreadPage, User, UserRef, VideoReplaced,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// How long a statement waits on another connection's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a free connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating the folder and file when missing) the database at `url`, e.g.
    /// `sqlite://data/reelplan.db`, with WAL journaling, foreign keys on, a busy timeout and
    /// `synchronous=NORMAL`. Does not migrate: call [`Store::migrate`].
    pub async fn open(url: &str, max_connections: u32) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal);
        create_parent_dir(options.get_filename())?;
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }

    /// The connection pool, for tests and tools that need raw access.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn create_parent_dir(file: &Path) -> StoreResult<()> {
    let in_memory = file.as_os_str().is_empty() || file.to_string_lossy().starts_with(":memory:");
    match file.parent() {
        Some(dir) if !in_memory && !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

/// "Now" as the database stores it: microseconds since the epoch.
fn now() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn micros(time: Timestamp) -> i64 {
    time.timestamp_micros()
}

fn time(micros: i64) -> StoreResult<Timestamp> {
    Timestamp::from_timestamp_micros(micros)
        .ok_or_else(|| StoreError::Other(format!("stored time out of range: {micros}")))
}

#[async_trait]
impl Users for SqliteStore {
    async fn create_user(&self, email: &str, nickname: &str, hash: &str) -> StoreResult<User> {
        sql::users::create(&self.pool, email, nickname, hash).await
    }

    async fn credentials(&self, email: &str) -> StoreResult<Option<Credentials>> {
        sql::users::credentials(&self.pool, email).await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        sql::users::by_id(&self.pool, id).await
    }

    async fn set_nickname(&self, id: UserId, nickname: &str) -> StoreResult<Option<User>> {
        sql::users::set_nickname(&self.pool, id, nickname).await
    }

    async fn footprint(&self, id: UserId) -> StoreResult<Footprint> {
        sql::users::footprint(&self.pool, id).await
    }
}

#[async_trait]
impl Projects for SqliteStore {
    async fn list_projects(
        &self,
        viewer: UserId,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<ProjectSummary>> {
        sql::projects::list(&self.pool, viewer, filter, page).await
    }

    async fn memberships_page(
        &self,
        viewer: UserId,
        page: PageRequest,
    ) -> StoreResult<MembershipPage> {
        sql::projects::memberships_page(&self.pool, viewer, page).await
    }

    async fn project_summaries(&self, ids: &[ProjectId]) -> StoreResult<Vec<ProjectCore>> {
        sql::projects::summaries(&self.pool, ids).await
    }

    async fn feedback_summary(&self, id: ProjectId) -> StoreResult<Option<FeedbackSummary>> {
        sql::projects::feedback(&self.pool, id).await
    }

    async fn project_detail(&self, id: ProjectId) -> StoreResult<Option<ProjectDetail>> {
        sql::projects::detail(&self.pool, id).await
    }

    async fn create_project(&self, owner: UserId, project: &NewProject) -> StoreResult<ProjectId> {
        sql::projects::create(&self.pool, owner, project).await
    }

    async fn update_project(
        &self,
        id: ProjectId,
        patch: &ProjectPatch,
        by: UserId,
    ) -> StoreResult<bool> {
        sql::projects::update(&self.pool, id, patch, by).await
    }

    async fn set_phase(
        &self,
        id: ProjectId,
        phase: Phase,
        dates: PhaseDates,
        by: UserId,
    ) -> StoreResult<bool> {
        sql::projects::set_phase(&self.pool, id, phase, dates, by).await
    }

    async fn delete_project(&self, id: ProjectId) -> StoreResult<Option<Vec<String>>> {
        sql::projects::delete(&self.pool, id).await
    }
}

#[async_trait]
impl Members for SqliteStore {
    async fn access(&self, id: ProjectId) -> StoreResult<Option<ProjectAccess>> {
        sql::members::access(&self.pool, id).await
    }

    async fn invite_context(
        &self,
        id: ProjectId,
        email: &str,
    ) -> StoreResult<Option<(ProjectAccess, Option<UserRef>)>> {
        sql::members::invite_context(&self.pool, id, email).await
    }

    async fn add_member(
        &self,
        project: ProjectId,
        user: &UserRef,
        role: Role,
        by: UserId,
    ) -> StoreResult<Option<Member>> {
        sql::members::add(&self.pool, project, user, role, by).await
    }

    async fn set_member_role(
        &self,
        project: ProjectId,
        member: MemberId,
        role: Role,
        by: UserId,
    ) -> StoreResult<Option<Member>> {
        sql::members::set_role(&self.pool, project, member, role, by).await
    }

    async fn remove_member(
        &self,
        project: ProjectId,
        member: MemberId,
        by: UserId,
    ) -> StoreResult<Option<UserId>> {
        sql::members::remove(&self.pool, project, member, by).await
    }
}

#[async_trait]
impl Feedback for SqliteStore {
    async fn comments_page(
        &self,
        project: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Comment>>> {
        sql::feedback::comments_page(&self.pool, project, page).await
    }

    async fn messages_page(
        &self,
        project: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Message>>> {
        sql::feedback::messages_page(&self.pool, project, page).await
    }

    async fn comments_head(
        &self,
        project: ProjectId,
        limit: u32,
    ) -> StoreResult<Option<(ThreadPage<Comment>, FeedbackSummary)>> {
        sql::feedback::comments_head(&self.pool, project, limit).await
    }

    async fn add_comment(
        &self,
        project: ProjectId,
        author: UserId,
        text: &str,
        timecode: Option<f64>,
    ) -> StoreResult<Option<Comment>> {
        sql::feedback::add_comment(&self.pool, project, author, text, timecode).await
    }

    async fn comment_author(
        &self,
        project: ProjectId,
        id: CommentId,
    ) -> StoreResult<Option<UserId>> {
        sql::feedback::comment_author(&self.pool, project, id).await
    }

    async fn delete_comment(&self, project: ProjectId, id: CommentId) -> StoreResult<bool> {
        sql::feedback::delete_comment(&self.pool, project, id).await
    }

    async fn add_message(
        &self,
        project: ProjectId,
        author: UserId,
        text: &str,
    ) -> StoreResult<Option<Message>> {
        sql::feedback::add_message(&self.pool, project, author, text).await
    }
}

#[async_trait]
impl Memos for SqliteStore {
    async fn add_memo(
        &self,
        project: ProjectId,
        author: UserId,
        date: Timestamp,
        text: &str,
        cap: u32,
    ) -> StoreResult<Option<Memo>> {
        sql::memos::add(&self.pool, project, author, date, text, cap).await
    }

    async fn delete_memo(&self, project: ProjectId, id: MemoId) -> StoreResult<bool> {
        sql::memos::delete(&self.pool, project, id).await
    }
}

#[async_trait]
impl Files for SqliteStore {
    async fn add_file(
        &self,
        project: ProjectId,
        file: &NewFile,
        cap: u32,
    ) -> StoreResult<Option<FileMeta>> {
        sql::files::add(&self.pool, project, file, cap).await
    }

    async fn set_video(&self, project: ProjectId, file: &NewFile) -> StoreResult<VideoReplaced> {
        sql::files::set_video(&self.pool, project, file).await
    }

    async fn file(&self, project: ProjectId, id: FileId) -> StoreResult<Option<FileAccess>> {
        sql::files::file(&self.pool, project, id).await
    }

    async fn delete_file(&self, project: ProjectId, id: FileId) -> StoreResult<Option<String>> {
        sql::files::delete(&self.pool, project, id).await
    }

    async fn project_file_keys(&self, project: ProjectId) -> StoreResult<Vec<String>> {
        sql::files::project_keys(&self.pool, project).await
    }
}

#[async_trait]
impl Admin for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn pool_status(&self) -> PoolStatus {
        PoolStatus {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
            server_limit: None,
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        const SQL: &str = "SELECT 1";
        stats::run(SQL, sqlx::query(SQL).execute(&self.pool)).await.map(|_| ())
    }

    async fn deployment_id(&self) -> StoreResult<String> {
        const SQL: &str = "SELECT id FROM deployment LIMIT 1";
        stats::run(SQL, sqlx::query_scalar(SQL).fetch_one(&self.pool)).await
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations").run(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn named_storage_keys(&self, keys: &[String]) -> StoreResult<Vec<String>> {
        sql::files::named_keys(&self.pool, keys).await
    }
}
