//! The reference datasets of `BENCHMARK.md`, generated deterministically: the same seed and
//! anchor give the same rows. Pure: no I/O, no clock (the caller passes the anchor, "now").
//!
//! Distributions, per `BENCHMARK.md`:
//! - users `user{N}@example.com`, nickname `user{N}`, password `password{N}`, N from 1;
//! - owners uniform over all users;
//! - members 0-10 per project (uniform, mean 5), drawn with a heavy tail: with probability 30%
//!   from the power users (the lowest 1% of user numbers), else from the others; never the owner
//!   nor twice the same user;
//! - roles 10% manager, 40% editor, 50% viewer;
//! - all eight phases, each a start and an end 1-30 days later, consecutive; each of the 16
//!   dates is null with probability 10%;
//! - comments 0-40 (mean 20), messages 0-20 (mean 10), memos 0-6 (mean 3) per project; authors
//!   drawn from the owner and members; comment timecodes uniform in 0-600 s (millisecond steps);
//! - every created time uniform over the 365 days before the anchor (rows of a project after
//!   the project's own);
//! - versions 1-3 per project (uniform), numbered from 1, uploaded by the owner or an editor or
//!   manager, between the project's creation and its first comment (so every comment follows
//!   the upload of the version it is on); each with a video row (`seed/<project>/<number>`, no
//!   object) and 0-3 reviews by distinct members other than the uploader (uniform, fewer when
//!   the project has fewer), older versions' mostly asking for changes (which is why a newer
//!   cut came), the current one's mixed; every comment is on the current (highest) version.
//!
//! The versions and reviews are drawn from an RNG stream of their own, so the rows API 1.0
//! seeded (users, projects but for `version_seq`, members, comments but for `version_id`,
//! messages, memos) are the same as before they were added: figures stay comparable.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reelplan_domain::{ReviewStatus, Role};
use reelplan_store::bulk::{
    CommentRow, MemberRow, MemoRow, MessageRow, ProjectBatch, ProjectRow, ReviewRow, VersionRow,
    VideoRow,
};

/// A day, in microseconds.
const DAY_US: i64 = 86_400 * 1_000_000;
/// The share of memberships taken by power users.
pub const POWER_SHARE: f64 = 0.30;

/// The named dataset sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetSize {
    /// 50 users, 100 projects: for tests only (not in `BENCHMARK.md`).
    Tiny,
    /// 1,000 users, 2,000 projects.
    Small,
    /// 50,000 users, 100,000 projects.
    Large,
}

impl DatasetSize {
    /// Number of users.
    pub fn users(self) -> u32 {
        match self {
            DatasetSize::Tiny => 50,
            DatasetSize::Small => 1_000,
            DatasetSize::Large => 50_000,
        }
    }

    /// Number of projects.
    pub fn projects(self) -> u32 {
        2 * self.users()
    }

    /// Number of power users: the lowest 1% of user numbers (at least one).
    pub fn power_users(self) -> u32 {
        (self.users() / 100).max(1)
    }

    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            DatasetSize::Tiny => "tiny",
            DatasetSize::Small => "small",
            DatasetSize::Large => "large",
        }
    }
}

/// A user before hashing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedUser {
    /// Id, the N of `user{N}`.
    pub id: i64,
    /// `user{N}@example.com`.
    pub email: String,
    /// `user{N}`.
    pub nickname: String,
    /// `password{N}`.
    pub password: String,
    /// Signup time, microseconds.
    pub created: i64,
}

/// The well-known credentials of user N.
pub fn credentials(n: u32) -> (String, String) {
    (format!("user{n}@example.com"), format!("password{n}"))
}

/// Draws a user number with `BENCHMARK.md`'s heavy tail: 30% from the power users.
pub fn heavy_tail_user(rng: &mut impl Rng, size: DatasetSize) -> u32 {
    let power = size.power_users();
    if rng.random_bool(POWER_SHARE) {
        rng.random_range(1..=power)
    } else {
        rng.random_range(power + 1..=size.users())
    }
}

/// The generator of one dataset.
#[derive(Debug, Clone, Copy)]
pub struct Generator {
    /// Which dataset.
    pub size: DatasetSize,
    /// The seed (default 42).
    pub seed: u64,
    /// "Now", microseconds: created times fall in the 365 days before it.
    pub anchor: i64,
}

impl Generator {
    /// A generator of `size` with `seed`, times relative to `anchor` (microseconds).
    pub fn new(size: DatasetSize, seed: u64, anchor: i64) -> Self {
        Generator { size, seed, anchor }
    }

    fn rng(&self, stream: u64) -> StdRng {
        StdRng::seed_from_u64(self.seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn past(&self, rng: &mut StdRng) -> i64 {
        self.anchor - rng.random_range(0..365 * DAY_US)
    }

    /// Every user, ids 1..=N.
    pub fn users(&self) -> Vec<GeneratedUser> {
        let mut rng = self.rng(1);
        (1..=self.size.users())
            .map(|n| {
                let (email, password) = credentials(n);
                GeneratedUser {
                    id: i64::from(n),
                    email,
                    nickname: format!("user{n}"),
                    password,
                    created: self.past(&mut rng),
                }
            })
            .collect()
    }

    /// Every project and what hangs off it, in batches of `batch_projects` consecutive ids.
    pub fn batches(&self, batch_projects: usize) -> Batches {
        Batches {
            generator: *self,
            rng: self.rng(2),
            review_rng: self.rng(3),
            batch_projects: batch_projects.max(1),
            next_project: 1,
            next_ids: NextIds {
                member: 1,
                comment: 1,
                message: 1,
                memo: 1,
                video: 1,
                version: 1,
                review: 1,
            },
        }
    }

    /// The whole dataset's projects in one batch (tests and small sizes).
    pub fn all_projects(&self) -> ProjectBatch {
        let mut all = ProjectBatch::default();
        for batch in self.batches(10_000) {
            all.projects.extend(batch.projects);
            all.members.extend(batch.members);
            all.videos.extend(batch.videos);
            all.versions.extend(batch.versions);
            all.reviews.extend(batch.reviews);
            all.comments.extend(batch.comments);
            all.messages.extend(batch.messages);
            all.memos.extend(batch.memos);
        }
        all
    }
}

#[derive(Debug, Clone, Copy)]
struct NextIds {
    member: i64,
    comment: i64,
    message: i64,
    memo: i64,
    video: i64,
    version: i64,
    review: i64,
}

/// The iterator of [`Generator::batches`].
#[derive(Debug)]
pub struct Batches {
    generator: Generator,
    rng: StdRng,
    /// Versions and reviews only: a stream apart from `rng`, so adding them changed none of
    /// the draws of the rows seeded before them.
    review_rng: StdRng,
    batch_projects: usize,
    next_project: u32,
    next_ids: NextIds,
}

impl Iterator for Batches {
    type Item = ProjectBatch;

    fn next(&mut self) -> Option<ProjectBatch> {
        let total = self.generator.size.projects();
        if self.next_project > total {
            return None;
        }
        let mut batch = ProjectBatch::default();
        while self.next_project <= total && batch.projects.len() < self.batch_projects {
            self.project(i64::from(self.next_project), &mut batch);
            self.next_project += 1;
        }
        Some(batch)
    }
}

const WORDS: &[&str] = &[
    "cut",
    "color",
    "grade",
    "audio",
    "mix",
    "title",
    "logo",
    "intro",
    "outro",
    "scene",
    "shot",
    "frame",
    "music",
    "voice",
    "caption",
    "brand",
    "client",
    "review",
    "timing",
    "lighting",
    "sky",
    "city",
    "night",
    "launch",
    "spring",
    "summer",
    "campaign",
    "trailer",
    "teaser",
    "interview",
    "drone",
    "studio",
    "product",
    "story",
    "motion",
    "sound",
    "edit",
    "final",
];
const NAMES: &[&str] = &[
    "Aiko", "Ben", "Chloe", "Daichi", "Emma", "Felix", "Hana", "Ivan", "Jun", "Kate", "Leo", "Mia",
    "Noah", "Olivia", "Ren", "Sara", "Taro", "Yuki",
];
const COMPANIES: &[&str] =
    &["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Soylent", "Stark", "Wayne", "Tyrell"];

/// Version labels (none for 30% of versions).
const LABELS: &[&str] = &[
    "rough cut",
    "fine cut",
    "client cut",
    "color pass",
    "sound mix",
    "final cut",
    "director's cut",
];
/// Frame rates of the Limits table, as it writes them.
const FPS: &[f64] = &[23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0];

fn words(rng: &mut StdRng, min: usize, max: usize) -> String {
    let n = rng.random_range(min..=max);
    let mut text = String::with_capacity(n * 8);
    for i in 0..n {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(WORDS[rng.random_range(0..WORDS.len())]);
    }
    text
}

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

impl Batches {
    /// A user number with the heavy tail, not already in `taken`; the draw stays in its class
    /// (power or not) while it can, so the power share holds.
    fn member(&mut self, taken: &[i64]) -> Option<i64> {
        let size = self.generator.size;
        let power = size.power_users();
        let first_power = self.rng.random_bool(POWER_SHARE);
        for class_power in [first_power, !first_power] {
            let (low, high) = if class_power { (1, power) } else { (power + 1, size.users()) };
            if low > high {
                continue;
            }
            for _ in 0..32 {
                let user = i64::from(self.rng.random_range(low..=high));
                if !taken.contains(&user) {
                    return Some(user);
                }
            }
        }
        None
    }

    fn project(&mut self, id: i64, batch: &mut ProjectBatch) {
        let g = self.generator;
        // Drawn first so the project row can carry its `version_seq` and every comment the
        // current version's id; the versions themselves follow the comments (they need the
        // first comment's time).
        let version_count = self.review_rng.random_range(1..=3_i64);
        let current_version = self.next_ids.version + version_count - 1;
        let rng = &mut self.rng;
        let owner = i64::from(rng.random_range(1..=g.size.users()));
        let created = g.anchor - rng.random_range(0..365 * DAY_US);
        let span = (g.anchor - created).max(1);
        let mut cursor = created + rng.random_range(-30 * DAY_US..30 * DAY_US);
        let mut phases = [(None, None); 8];
        for phase in &mut phases {
            let start = cursor;
            let end = start + rng.random_range(1..=30) * DAY_US;
            cursor = end;
            let keep = |rng: &mut StdRng, t: i64| (!rng.random_bool(0.1)).then_some(t);
            *phase = (keep(rng, start), keep(rng, end));
        }
        let color =
            rng.random_bool(0.8).then(|| format!("#{:06X}", rng.random_range(0..0x0100_0000_u32)));
        let project = ProjectRow {
            id,
            owner_id: owner,
            name: format!("{} {} #{id}", pick(rng, COMPANIES), words(rng, 1, 3)),
            manager: pick(rng, NAMES).to_string(),
            consumer: pick(rng, COMPANIES).to_string(),
            description: words(rng, 0, 20),
            color,
            created,
            updated: created,
            version_seq: version_count,
            phases,
        };
        batch.projects.push(project);

        let mut participants = vec![owner];
        // Who may upload a version (Action::Edit): the owner, editors and managers.
        let mut uploaders = vec![owner];
        let member_count = self.rng.random_range(0..=10);
        for _ in 0..member_count {
            let Some(user) = self.member(&participants) else { break };
            participants.push(user);
            let rng = &mut self.rng;
            let roll: f64 = rng.random();
            let role = if roll < 0.1 {
                Role::Manager
            } else if roll < 0.5 {
                Role::Editor
            } else {
                Role::Viewer
            };
            if role >= Role::Editor {
                uploaders.push(user);
            }
            batch.members.push(MemberRow {
                id: self.next_ids.member,
                project_id: id,
                user_id: user,
                role,
                created: created + rng.random_range(0..span),
            });
            self.next_ids.member += 1;
        }

        let rng = &mut self.rng;
        let times = |rng: &mut StdRng, n: usize| {
            let mut t: Vec<i64> = (0..n).map(|_| created + rng.random_range(0..span)).collect();
            t.sort_unstable();
            t
        };
        let comments = rng.random_range(0..=40);
        let comment_times = times(rng, comments);
        let first_comment = comment_times.first().copied();
        for created in comment_times {
            let author = participants[rng.random_range(0..participants.len())];
            let timecode = f64::from(rng.random_range(0..=600_000_u32)) / 1000.0;
            batch.comments.push(CommentRow {
                id: self.next_ids.comment,
                project_id: id,
                user_id: author,
                text: words(rng, 3, 15),
                timecode: Some(timecode),
                version_id: Some(current_version),
                created,
            });
            self.next_ids.comment += 1;
        }
        let messages = rng.random_range(0..=20);
        for created in times(rng, messages) {
            let author = participants[rng.random_range(0..participants.len())];
            batch.messages.push(MessageRow {
                id: self.next_ids.message,
                project_id: id,
                user_id: author,
                text: words(rng, 2, 12),
                created,
            });
            self.next_ids.message += 1;
        }
        let memos = rng.random_range(0..=6);
        for _ in 0..memos {
            let author = participants[rng.random_range(0..participants.len())];
            batch.memos.push(MemoRow {
                id: self.next_ids.memo,
                project_id: id,
                user_id: author,
                date: created + rng.random_range(0..120) * DAY_US,
                text: words(rng, 2, 10),
                created: created + rng.random_range(0..span),
            });
            self.next_ids.memo += 1;
        }

        let until = first_comment.unwrap_or(g.anchor);
        let members = &participants[1..];
        self.versions(id, version_count, (created, until), &uploaders, members, batch);
    }

    /// Versions 1..=`count` of project `project` uploaded within `window` (ascending times),
    /// by `uploaders`, each with its video and 0-3 reviews by `members` other than its
    /// uploader.
    fn versions(
        &mut self,
        project: i64,
        count: i64,
        window: (i64, i64),
        uploaders: &[i64],
        members: &[i64],
        batch: &mut ProjectBatch,
    ) {
        let anchor = self.generator.anchor;
        let rng = &mut self.review_rng;
        let mut times: Vec<i64> =
            (0..count).map(|_| rng.random_range(window.0..=window.1)).collect();
        times.sort_unstable();
        let mut reviewers = Vec::with_capacity(members.len());
        for (i, &created) in times.iter().enumerate() {
            let number = i as i64 + 1;
            let current = number == count;
            let created_by = uploaders[rng.random_range(0..uploaders.len())];
            let label = rng.random_bool(0.7).then(|| pick(rng, LABELS).to_string());
            let fps = rng.random_bool(0.8).then(|| FPS[rng.random_range(0..FPS.len())]);
            // At least 600 s, so that every comment timecode (0-600 s) falls within the video.
            let duration = rng
                .random_bool(0.8)
                .then(|| f64::from(rng.random_range(600_000..=900_000_u32)) / 1000.0);
            let video = VideoRow {
                id: self.next_ids.video,
                project_id: project,
                name: format!("cut-v{number}.mp4"),
                size: rng.random_range(20_000_000..=2_000_000_000_i64),
                // No object is written: a recognisable prefix of its own keeps these keys
                // apart from the server's random `xx/<32 hex>` ones.
                storage_key: format!("seed/{project}/{number}"),
                created,
            };
            self.next_ids.video += 1;
            let version = VersionRow {
                id: self.next_ids.version,
                project_id: project,
                number,
                label,
                fps,
                duration,
                file_id: video.id,
                created_by,
                created,
            };
            self.next_ids.version += 1;

            // A review is given between the upload and the next version's (the anchor for the
            // current one): once a newer cut is up, nobody reviews the old one.
            let review_until = times.get(i + 1).copied().unwrap_or(anchor).max(created);
            reviewers.clear();
            reviewers.extend(members.iter().copied().filter(|&m| m != created_by));
            let review_count = rng.random_range(0..=reviewers.len().min(3));
            let (chosen, _) = reviewers.partial_shuffle(rng, review_count);
            for &user_id in chosen.iter() {
                let roll: f64 = rng.random();
                // Older versions were superseded, mostly because someone asked for changes;
                // the current one's verdicts are still open or split.
                let (changes, approved) = if current { (0.2, 0.6) } else { (0.6, 0.8) };
                let status = if roll < changes {
                    ReviewStatus::ChangesRequested
                } else if roll < approved {
                    ReviewStatus::Approved
                } else {
                    ReviewStatus::Pending
                };
                let note = rng.random_bool(0.5).then(|| words(rng, 3, 12));
                batch.reviews.push(ReviewRow {
                    id: self.next_ids.review,
                    version_id: version.id,
                    user_id,
                    status,
                    note,
                    updated: rng.random_range(created..=review_until),
                });
                self.next_ids.review += 1;
            }
            batch.videos.push(video);
            batch.versions.push(version);
        }
    }
}
