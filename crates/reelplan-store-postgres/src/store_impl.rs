//! `impl Store for PgStore`: each method delegates to the one statement of its resource module.

use async_trait::async_trait;
use reelplan_domain::{
    CommentId, FileId, MemberId, MemoId, Phase, PhaseDates, ProjectId, Role, Timestamp, UserId,
};
use reelplan_store::model::*;
use reelplan_store::prelude::*;
use reelplan_store::stats::run;
use reelplan_store::{FileAccess, NewFile, PageRequest, ProjectFilter, StoreResult, VideoReplaced};

use crate::sql::{feedback, files, members, memos, projects, users};
use crate::PgStore;

/// The statement behind [`Store::ping`].
const PING: &str = "SELECT 1";

/// The statement behind [`Store::deployment_id`].
const DEPLOYMENT: &str = "SELECT id FROM deployment LIMIT 1";

#[async_trait]
impl Users for PgStore {
    async fn create_user(&self, email: &str, nickname: &str, hash: &str) -> StoreResult<User> {
        users::create(&self.pool, email, nickname, hash).await
    }

    async fn credentials(&self, email: &str) -> StoreResult<Option<Credentials>> {
        users::credentials(&self.pool, email).await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        users::by_id(&self.pool, id).await
    }

    async fn set_nickname(&self, id: UserId, nickname: &str) -> StoreResult<Option<User>> {
        users::set_nickname(&self.pool, id, nickname).await
    }

    async fn footprint(&self, id: UserId) -> StoreResult<Footprint> {
        users::footprint(&self.pool, id).await
    }
}

#[async_trait]
impl Projects for PgStore {
    async fn list_projects(
        &self,
        viewer: UserId,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<ProjectSummary>> {
        projects::list(&self.pool, viewer, filter, page).await
    }

    async fn memberships_page(
        &self,
        viewer: UserId,
        page: PageRequest,
    ) -> StoreResult<MembershipPage> {
        projects::memberships_page(&self.pool, viewer, page).await
    }

    async fn project_summaries(&self, ids: &[ProjectId]) -> StoreResult<Vec<ProjectCore>> {
        projects::summaries(&self.pool, ids).await
    }

    async fn feedback_summary(&self, id: ProjectId) -> StoreResult<Option<FeedbackSummary>> {
        projects::feedback(&self.pool, id).await
    }

    async fn project_detail(&self, id: ProjectId) -> StoreResult<Option<ProjectDetail>> {
        projects::detail(&self.pool, id).await
    }

    async fn create_project(&self, owner: UserId, project: &NewProject) -> StoreResult<ProjectId> {
        projects::create(&self.pool, owner, project).await
    }

    async fn update_project(
        &self,
        id: ProjectId,
        patch: &ProjectPatch,
        by: UserId,
    ) -> StoreResult<bool> {
        projects::update(&self.pool, id, patch, by).await
    }

    async fn set_phase(
        &self,
        id: ProjectId,
        phase: Phase,
        dates: PhaseDates,
        by: UserId,
    ) -> StoreResult<bool> {
        projects::set_phase(&self.pool, id, phase, dates, by).await
    }

    async fn delete_project(&self, id: ProjectId) -> StoreResult<Option<Vec<String>>> {
        projects::delete(&self.pool, id).await
    }
}

#[async_trait]
impl Members for PgStore {
    async fn access(&self, id: ProjectId) -> StoreResult<Option<ProjectAccess>> {
        projects::access(&self.pool, id).await
    }

    async fn invite_context(
        &self,
        id: ProjectId,
        email: &str,
    ) -> StoreResult<Option<(ProjectAccess, Option<UserRef>)>> {
        projects::invite_context(&self.pool, id, email).await
    }

    async fn add_member(
        &self,
        project: ProjectId,
        user: &UserRef,
        role: Role,
        by: UserId,
    ) -> StoreResult<Option<Member>> {
        members::add(&self.pool, project, user, role, by).await
    }

    async fn set_member_role(
        &self,
        project: ProjectId,
        member: MemberId,
        role: Role,
        by: UserId,
    ) -> StoreResult<Option<Member>> {
        members::set_role(&self.pool, project, member, role, by).await
    }

    async fn remove_member(
        &self,
        project: ProjectId,
        member: MemberId,
        by: UserId,
    ) -> StoreResult<Option<UserId>> {
        members::remove(&self.pool, project, member, by).await
    }
}

#[async_trait]
impl Feedback for PgStore {
    async fn comments_page(
        &self,
        project: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Comment>>> {
        feedback::comments_page(&self.pool, project, page).await
    }

    async fn messages_page(
        &self,
        project: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Option<ThreadPage<Message>>> {
        feedback::messages_page(&self.pool, project, page).await
    }

    async fn comments_head(
        &self,
        project: ProjectId,
        limit: u32,
    ) -> StoreResult<Option<(ThreadPage<Comment>, FeedbackSummary)>> {
        feedback::comments_head(&self.pool, project, limit).await
    }

    async fn add_comment(
        &self,
        project: ProjectId,
        author: UserId,
        text: &str,
        timecode: Option<f64>,
    ) -> StoreResult<Option<Comment>> {
        feedback::add_comment(&self.pool, project, author, text, timecode).await
    }

    async fn comment_author(
        &self,
        project: ProjectId,
        id: CommentId,
    ) -> StoreResult<Option<UserId>> {
        feedback::comment_author(&self.pool, project, id).await
    }

    async fn delete_comment(&self, project: ProjectId, id: CommentId) -> StoreResult<bool> {
        feedback::delete_comment(&self.pool, project, id).await
    }

    async fn add_message(
        &self,
        project: ProjectId,
        author: UserId,
        text: &str,
    ) -> StoreResult<Option<Message>> {
        feedback::add_message(&self.pool, project, author, text).await
    }
}

#[async_trait]
impl Memos for PgStore {
    async fn add_memo(
        &self,
        project: ProjectId,
        author: UserId,
        date: Timestamp,
        text: &str,
        cap: u32,
    ) -> StoreResult<Option<Memo>> {
        memos::add(&self.pool, project, author, date, text, cap).await
    }

    async fn delete_memo(&self, project: ProjectId, id: MemoId) -> StoreResult<bool> {
        memos::delete(&self.pool, project, id).await
    }
}

#[async_trait]
impl Files for PgStore {
    async fn add_file(
        &self,
        project: ProjectId,
        file: &NewFile,
        cap: u32,
    ) -> StoreResult<Option<FileMeta>> {
        files::add(&self.pool, project, file, cap).await
    }

    async fn set_video(&self, project: ProjectId, file: &NewFile) -> StoreResult<VideoReplaced> {
        files::set_video(&self.pool, project, file).await
    }

    async fn file(&self, project: ProjectId, id: FileId) -> StoreResult<Option<FileAccess>> {
        files::file(&self.pool, project, id).await
    }

    async fn delete_file(&self, project: ProjectId, id: FileId) -> StoreResult<Option<String>> {
        files::delete(&self.pool, project, id).await
    }

    async fn project_file_keys(&self, project: ProjectId) -> StoreResult<Vec<String>> {
        files::project_keys(&self.pool, project).await
    }
}

#[async_trait]
impl Admin for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn pool_status(&self) -> PoolStatus {
        self.status()
    }

    async fn ping(&self) -> StoreResult<()> {
        run(PING, sqlx::query(PING).execute(&self.pool)).await.map(|_| ())
    }

    async fn deployment_id(&self) -> StoreResult<String> {
        run(DEPLOYMENT, sqlx::query_scalar(DEPLOYMENT).fetch_one(&self.pool)).await
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations").run(&self.pool).await?;
        self.learn_server_limit().await
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn named_storage_keys(&self, keys: &[String]) -> StoreResult<Vec<String>> {
        files::named_keys(&self.pool, keys).await
    }
}
