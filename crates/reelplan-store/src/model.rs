//! Read models: what the store returns and the API serializes.
//!
//! Both backends build their read documents in SQL (JSON aggregation) with every time as
//! integer microseconds since the epoch, so one set of `Deserialize` impls here serves both;
//! `Serialize` writes the contract's shape with RFC 3339 times.

use reelplan_domain::{
    Color, CommentId, Description, DiscussionText, FileId, MemberId, MemoId, MessageId, Party,
    Phase, PhaseDates, ProjectId, ProjectName, Role, Timecode, Timestamp, UserId, VersionId,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Reads times written as integer microseconds since the epoch.
pub mod micros {
    use super::*;

    /// A required time.
    pub fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let micros = i64::deserialize(d)?;
        Timestamp::from_timestamp_micros(micros)
            .ok_or_else(|| serde::de::Error::custom("time out of range"))
    }

    /// An optional time.
    pub fn de_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Option::<i64>::deserialize(d)?
            .map(|micros| {
                Timestamp::from_timestamp_micros(micros)
                    .ok_or_else(|| serde::de::Error::custom("time out of range"))
            })
            .transpose()
    }
}

/// `{id, email, nickname}`: a user as others see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = user_ref)]
pub struct UserRef {
    /// Id.
    pub id: UserId,
    /// Lower-cased email.
    pub email: String,
    /// Display name.
    pub nickname: String,
}

/// `user`: the caller's own profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = user)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Lower-cased email.
    pub email: String,
    /// Display name.
    pub nickname: String,
    /// Signup time.
    #[serde(deserialize_with = "micros::de")]
    #[schema(value_type = String, format = DateTime)]
    pub created: Timestamp,
}

/// A user with the password hash, for login only.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The profile.
    pub user: User,
    /// PHC-format argon2id hash.
    pub password_hash: String,
}

/// The eight phases' dates, in phase order. Stored as 16 columns on the project row.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Phases(pub [PhaseDates; 8]);

impl Serialize for Phases {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        #[derive(Serialize)]
        struct Dates {
            start_date: Option<Timestamp>,
            end_date: Option<Timestamp>,
        }
        let mut map = s.serialize_map(Some(8))?;
        for phase in Phase::ALL {
            let dates = self.0[phase.index()];
            let dates = Dates { start_date: dates.start_date, end_date: dates.end_date };
            map.serialize_entry(phase.as_str(), &dates)?;
        }
        map.end()
    }
}

/// Documents the shape [`Phases`]' hand-written `Serialize` produces: all eight phases by name.
impl utoipa::PartialSchema for Phases {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
        let time = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .build();
        let dates = ObjectBuilder::new()
            .property("start_date", time.clone())
            .required("start_date")
            .property("end_date", time)
            .required("end_date")
            .build();
        let mut phases = ObjectBuilder::new();
        for phase in Phase::ALL {
            phases = phases.property(phase.as_str(), dates.clone()).required(phase.as_str());
        }
        phases.into()
    }
}

impl utoipa::ToSchema for Phases {
    fn name() -> std::borrow::Cow<'static, str> {
        "phases".into()
    }
}

impl<'de> Deserialize<'de> for Phases {
    /// From the SQL documents' flat array of 16 microsecond times (start, end per phase).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let flat = <[Option<i64>; 16]>::deserialize(d)?;
        let time = |micros: Option<i64>| micros.and_then(Timestamp::from_timestamp_micros);
        let mut phases = [PhaseDates::default(); 8];
        for (i, dates) in phases.iter_mut().enumerate() {
            dates.start_date = time(flat[2 * i]);
            dates.end_date = time(flat[2 * i + 1]);
        }
        Ok(Phases(phases))
    }
}

/// The fields every project document shares (summary and detail), without `my_role`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = project_core)]
pub struct ProjectCore {
    /// Id.
    pub id: ProjectId,
    /// Name.
    pub name: String,
    /// Who manages the production (free text).
    pub manager: String,
    /// The client (free text).
    pub consumer: String,
    /// Description.
    pub description: String,
    /// `#RRGGBB` or null.
    pub color: Option<String>,
    /// The creator.
    pub owner: UserRef,
    /// Members, not counting the owner.
    pub member_count: i64,
    /// All eight phases.
    pub phases: Phases,
    /// First non-null start date in phase order.
    #[serde(deserialize_with = "micros::de_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub earliest_start_date: Option<Timestamp>,
    /// First non-null end date in reverse phase order.
    #[serde(deserialize_with = "micros::de_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub latest_end_date: Option<Timestamp>,
    /// Creation time.
    #[serde(deserialize_with = "micros::de")]
    #[schema(value_type = String, format = DateTime)]
    pub created: Timestamp,
    /// Last change of the project's own fields or phases.
    #[serde(deserialize_with = "micros::de")]
    #[schema(value_type = String, format = DateTime)]
    pub updated: Timestamp,
    /// The current version's number and approval status.
    pub review: crate::ReviewSummary,
}

/// `project_summary`: one row of a caller's project list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = project_summary)]
pub struct ProjectSummary {
    /// The caller's role on this project.
    pub my_role: Role,
    /// Everything else.
    #[serde(flatten)]
    pub core: ProjectCore,
}

/// One project of a user's list: which, with the user's role, and its place in the list's
/// order (newest `created` first, then id descending). Read from SQL as `[id, role, micros]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListEntry {
    /// The project.
    pub project_id: ProjectId,
    /// The user's role on it.
    pub role: Role,
    /// The project's creation time, its sort key.
    pub created: Timestamp,
}

impl<'de> Deserialize<'de> for ListEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (id, role, micros) = <(i64, Role, i64)>::deserialize(d)?;
        let created = Timestamp::from_timestamp_micros(micros)
            .ok_or_else(|| serde::de::Error::custom("time out of range"))?;
        Ok(ListEntry { project_id: ProjectId(id), role, created })
    }
}

/// A user's whole membership list and one page of it as project documents, read together.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MembershipPage {
    /// Every project of the user's list, in list order.
    pub entries: Vec<ListEntry>,
    /// The requested page of them.
    pub page: Vec<ProjectCore>,
}

/// `member`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = member)]
pub struct Member {
    /// The membership's id.
    pub id: MemberId,
    /// The member's user id.
    pub user_id: UserId,
    /// The member's email.
    pub email: String,
    /// The member's nickname.
    pub nickname: String,
    /// Viewer, editor or manager.
    pub role: Role,
    /// When they joined.
    #[serde(deserialize_with = "micros::de")]
    #[schema(value_type = String, format = DateTime)]
    pub created: Timestamp,
}

/// `comment`: a timecoded review comment, or a reply to one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = comment)]
pub struct Comment {
    /// Id.
    pub id: CommentId,
    /// Author.
    pub user: UserRef,
    /// Text.
    pub text: String,
    /// Seconds into the video, or null.
    pub timecode: Option<f64>,
    /// The end of a range `[timecode, timecode_end]`, or null.
    pub timecode_end: Option<f64>,
    /// The version it is about; null when the project had no version.
    pub version_id: Option<VersionId>,
    /// The top-level comment it replies to, or null.
    pub parent_id: Option<CommentId>,
    /// A drawing on the frame at `timecode`: an opaque JSON object, or null.
    #[schema(value_type = Option<Object>)]
    pub annotation: Option<serde_json::Map<String, serde_json::Value>>,
    /// Whether it was resolved.
    pub resolved: bool,
    /// Who resolved it, or null.
    pub resolved_by: Option<UserRef>,
    /// When it was resolved, or null.
    #[serde(deserialize_with = "micros::de_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Timestamp>,
    /// When its text was last changed, or null.
    #[serde(deserialize_with = "micros::de_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited: Option<Timestamp>,
    /// When posted.
    #[serde(deserialize_with = "micros::de")]
    #[schema(value_type = String, format = DateTime)]
    pub created: Timestamp,
}

/// A drawing on a frame: a JSON object of at most [`Annotation::MAX_BYTES`] serialized, kept
/// as its compact text (keys in the order given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation(String);

impl Annotation {
    /// 16 KiB, the Limits table's cap.
    pub const MAX_BYTES: usize = 16 * 1024;

    /// An object of at most 16 KiB once serialized compactly.
    pub fn parse(value: &serde_json::Value) -> Result<Self, &'static str> {
        const BAD: &str = "must be a JSON object of at most 16 KiB";
        if !value.is_object() {
            return Err(BAD);
        }
        let text = serde_json::to_string(value).map_err(|_| BAD)?;
        if text.len() > Self::MAX_BYTES {
            return Err(BAD);
        }
        Ok(Annotation(text))
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A comment to post.
#[derive(Debug, Clone, PartialEq)]
pub struct NewComment {
    /// Its text.
    pub text: DiscussionText,
    /// Seconds into the video.
    pub timecode: Option<Timecode>,
    /// The end of its range (needs `timecode`, and is not before it).
    pub timecode_end: Option<Timecode>,
    /// The version it is about; None: the current one (a reply: its parent's).
    pub version: Option<VersionId>,
    /// The top-level comment it replies to.
    pub parent: Option<CommentId>,
    /// A drawing on the frame.
    pub annotation: Option<Annotation>,
}

/// A change to a comment: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommentPatch {
    /// New text (sets `edited` when it differs).
    pub text: Option<DiscussionText>,
    /// Resolve (true) or reopen (false).
    pub resolved: Option<bool>,
}

/// Filters of a comment page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommentFilter {
    /// Only this version's comments.
    pub version: Option<VersionId>,
    /// Only resolved (true) or open (false) ones.
    pub resolved: Option<bool>,
}

/// `message`: a chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = message)]
pub struct Message {
    /// Id.
    pub id: MessageId,
    /// Author.
    pub user: UserRef,
    /// Text.
    pub text: String,
    /// When posted.
    #[serde(deserialize_with = "micros::de")]
    #[schema(value_type = String, format = DateTime)]
    pub created: Timestamp,
}

/// `memo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = memo)]
pub struct Memo {
    /// Id.
    pub id: MemoId,
    /// Author.
    pub user_id: UserId,
    /// The day or time the memo is about.
    #[serde(deserialize_with = "micros::de")]
    #[schema(value_type = String, format = DateTime)]
    pub date: Timestamp,
    /// Text.
    pub text: String,
    /// When written.
    #[serde(deserialize_with = "micros::de")]
    #[schema(value_type = String, format = DateTime)]
    pub created: Timestamp,
}

/// `file`: metadata of a stored file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = file)]
#[serde(from = "StoredFileMeta")]
pub struct FileMeta {
    /// Id.
    pub id: FileId,
    /// The name given at upload.
    pub name: String,
    /// The stored content type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// Where to GET the bytes.
    pub url: String,
    /// Upload time.
    #[schema(value_type = String, format = DateTime)]
    pub created: Timestamp,
}

impl FileMeta {
    /// The metadata of file `id` of `project`, with the one URL the API serves its bytes at
    /// (written here once, not in each backend's SQL).
    pub fn new(
        project: ProjectId,
        id: FileId,
        name: String,
        content_type: String,
        size: i64,
        created: Timestamp,
    ) -> Self {
        let url = format!("/api/projects/{}/files/{}", project.0, id.0);
        FileMeta { id, name, content_type, size, url, created }
    }
}

/// A file's metadata as the backends' documents hold it: its project, not its URL.
#[derive(Deserialize)]
struct StoredFileMeta {
    id: FileId,
    project_id: ProjectId,
    name: String,
    content_type: String,
    size: i64,
    #[serde(deserialize_with = "micros::de")]
    created: Timestamp,
}

impl From<StoredFileMeta> for FileMeta {
    fn from(f: StoredFileMeta) -> Self {
        FileMeta::new(f.project_id, f.id, f.name, f.content_type, f.size, f.created)
    }
}

/// The project's feedback thread at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = feedback_summary)]
pub struct FeedbackSummary {
    /// The current version's video.
    pub video: Option<FileMeta>,
    /// The current version: the highest number.
    pub current_version: Option<crate::Version>,
    /// Number of comments.
    pub comment_count: i64,
    /// Number of messages.
    pub message_count: i64,
    /// The newest five messages, newest first.
    pub recent_messages: Vec<Message>,
}

/// `project_detail` without `my_role`: one value serves every member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProjectDetail {
    /// The summary fields.
    #[serde(flatten)]
    pub core: ProjectCore,
    /// Members ordered by id (the owner is not one).
    pub members: Vec<Member>,
    /// Feedback at a glance.
    pub feedback: FeedbackSummary,
    /// Memos ordered by date, then id.
    pub memos: Vec<Memo>,
    /// Files ordered by id.
    pub files: Vec<FileMeta>,
}

impl ProjectDetail {
    /// Who may see this project and with which role.
    pub fn access(&self) -> ProjectAccess {
        ProjectAccess {
            owner_id: self.core.owner.id,
            members: self
                .members
                .iter()
                .map(|m| MemberAccess { member_id: m.id, user_id: m.user_id, role: m.role })
                .collect(),
        }
    }
}

/// One member's access entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberAccess {
    /// The membership's id.
    pub member_id: MemberId,
    /// The member's user id.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
}

/// Who takes part in a project: enough to check any caller's permission without SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectAccess {
    /// The owner.
    pub owner_id: UserId,
    /// Every member.
    pub members: Vec<MemberAccess>,
}

impl ProjectAccess {
    /// The caller's role, or None when they are not part of the project.
    pub fn role_of(&self, user: UserId) -> Option<Role> {
        if user == self.owner_id {
            return Some(Role::Owner);
        }
        self.members.iter().find(|m| m.user_id == user).map(|m| m.role)
    }

    /// A membership by its id.
    pub fn member(&self, id: MemberId) -> Option<MemberAccess> {
        self.members.iter().copied().find(|m| m.member_id == id)
    }

    /// The owner and every member.
    pub fn participants(&self) -> Vec<UserId> {
        std::iter::once(self.owner_id).chain(self.members.iter().map(|m| m.user_id)).collect()
    }
}

/// A new project's fields, each of which passed its rule.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// Name.
    pub name: ProjectName,
    /// Manager (free text).
    pub manager: Party,
    /// Consumer (free text).
    pub consumer: Party,
    /// Description.
    pub description: Description,
    /// Color.
    pub color: Option<Color>,
    /// Initial phase dates.
    pub phases: [PhaseDates; 8],
}

impl NewProject {
    /// A project with this name and nothing else: no parties, no description, no color, no
    /// dates.
    pub fn named(name: ProjectName) -> Self {
        NewProject {
            name,
            manager: Party::default(),
            consumer: Party::default(),
            description: Description::default(),
            color: None,
            phases: [PhaseDates::default(); 8],
        }
    }
}

/// A project patch whose fields passed their rules: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProjectPatch {
    /// New name.
    pub name: Option<ProjectName>,
    /// New manager.
    pub manager: Option<Party>,
    /// New consumer.
    pub consumer: Option<Party>,
    /// New description.
    pub description: Option<Description>,
    /// New color; `Some(None)` clears it.
    pub color: Option<Option<Color>>,
}

/// What a change of a user's own profile touches: the projects whose documents show the user,
/// and the users whose project lists show them as an owner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Projects the user owns, belongs to or wrote in.
    pub projects: Vec<ProjectId>,
    /// Participants of the projects the user owns.
    pub list_viewers: Vec<UserId>,
}

/// A page of a feedback thread with the access list read in the same statement.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadPage<T> {
    /// Who may read it.
    pub access: ProjectAccess,
    /// Up to the requested number of items, in the thread's order.
    pub items: Vec<T>,
}

/// Pool figures for metrics and readiness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// Open connections.
    pub size: u32,
    /// Of which idle.
    pub idle: u32,
    /// The configured maximum.
    pub max: u32,
    /// The database server's own connection limit (PostgreSQL `max_connections`, read at
    /// start-up); None for SQLite, which has no server.
    pub server_limit: Option<u32>,
}
