//! Cache configuration: byte budget, TTL per data kind, Redis.

use std::time::{Duration, Instant};

/// The kinds of cached data, each with its own TTL and metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `GET /api/me`.
    UserProfile,
    /// A user's memberships: the projects of their list, with roles, in list order.
    Memberships,
    /// One project's summary (one value for every member's list).
    ProjectSummary,
    /// A filtered page of a user's project list.
    ProjectList,
    /// A project's detail without the feedback block (one value for all members).
    ProjectDetail,
    /// A project detail's feedback block.
    DetailFeedback,
    /// A page of comments or messages.
    FeedbackThread,
    /// A page of review versions, or one version.
    Versions,
    /// A page of a project's activity (its event log).
    Activity,
}

impl Kind {
    /// Every kind, in declaration order (`kind as usize` indexes it).
    pub const ALL: [Kind; 9] = [
        Kind::UserProfile,
        Kind::Memberships,
        Kind::ProjectSummary,
        Kind::ProjectList,
        Kind::ProjectDetail,
        Kind::DetailFeedback,
        Kind::FeedbackThread,
        Kind::Versions,
        Kind::Activity,
    ];

    /// Metrics label and key segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::UserProfile => "user_profile",
            Kind::Memberships => "memberships",
            Kind::ProjectSummary => "project_summary",
            Kind::ProjectList => "project_list",
            Kind::ProjectDetail => "project_detail",
            Kind::DetailFeedback => "detail_feedback",
            Kind::FeedbackThread => "feedback_thread",
            Kind::Versions => "versions",
            Kind::Activity => "activity",
        }
    }
}

/// TTL per data kind. Defaults are the original design's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttls {
    /// Default 300 s.
    pub user_profile: Duration,
    /// Default 600 s.
    pub project_list: Duration,
    /// Default 300 s.
    pub project_detail: Duration,
    /// Default 60 s.
    pub feedback_thread: Duration,
}

impl Default for Ttls {
    fn default() -> Self {
        let s = Duration::from_secs;
        Ttls {
            user_profile: s(300),
            project_list: s(600),
            project_detail: s(300),
            feedback_thread: s(60),
        }
    }
}

impl Ttls {
    /// The TTL of a kind: a list's parts live as long as a list, a detail's as a detail.
    pub fn of(&self, kind: Kind) -> Duration {
        match kind {
            Kind::UserProfile => self.user_profile,
            Kind::Memberships | Kind::ProjectSummary | Kind::ProjectList => self.project_list,
            Kind::ProjectDetail | Kind::DetailFeedback => self.project_detail,
            Kind::FeedbackThread | Kind::Versions | Kind::Activity => self.feedback_thread,
        }
    }

    /// The longest TTL: generation keys must outlive every value cached under them.
    pub fn longest(&self) -> Duration {
        [self.user_profile, self.project_list, self.project_detail]
            .into_iter()
            .chain([self.feedback_thread])
            .max()
            .unwrap_or_default()
    }
}

/// The heaviest value the cache keeps by default: 1 MiB, a few hundred times a typical detail,
/// so only a project grown to its memo and file caps with long texts reaches it.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 1024 * 1024;

/// Everything the cache is configured with.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// `false` (`REELPLAN_CACHE=off`): every read goes to the database.
    pub enabled: bool,
    /// L1 byte budget.
    pub l1_bytes: u64,
    /// Values weighing more are served but never stored, in either tier, so one huge document
    /// can neither crowd out the rest of L1 nor fill Redis.
    pub max_value_bytes: usize,
    /// TTLs per kind.
    pub ttls: Ttls,
    /// `redis://...` for the L2 tier and shared generations.
    pub redis_url: Option<String>,
    /// How long one Redis operation may take before the cache is bypassed.
    pub redis_timeout: Duration,
    /// Prefix of every key, so deployments (or tests) sharing one Redis never meet. The server
    /// appends the database's deployment id to the configured prefix.
    pub namespace: String,
    /// How long a write keeps retrying an invalidation Redis refused before it answers (and
    /// this instance bypasses the cache until Redis takes one again).
    pub bump_deadline: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            l1_bytes: 64 * 1024 * 1024,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            ttls: Ttls::default(),
            redis_url: None,
            redis_timeout: Duration::from_millis(250),
            namespace: "rp".to_owned(),
            bump_deadline: Duration::from_secs(1),
        }
    }
}

pub(crate) struct KindExpiry(pub Ttls);

impl<V> moka::Expiry<crate::Key, crate::Entry<V>> for KindExpiry {
    fn expire_after_create(
        &self,
        _key: &crate::Key,
        entry: &crate::Entry<V>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(self.0.of(entry.kind))
    }

    /// A slot refilled under a newer view is a new value: it gets its kind's whole TTL.
    fn expire_after_update(
        &self,
        _key: &crate::Key,
        entry: &crate::Entry<V>,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.0.of(entry.kind))
    }
}
