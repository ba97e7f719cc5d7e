//! The generator matches BENCHMARK.md on `small`, and is deterministic.

use std::collections::{HashMap, HashSet};

use reelplan_bench::dataset::{DatasetSize, Generator};
use reelplan_domain::export::FrameRate;
use reelplan_domain::{ReviewStatus, Role};

const ANCHOR: i64 = 1_772_323_200_000_000; // 2026-03-01T00:00:00Z
const DAY: i64 = 86_400_000_000;

fn mean(values: impl Iterator<Item = usize>, n: usize) -> f64 {
    values.sum::<usize>() as f64 / n as f64
}

#[test]
fn small_matches_benchmark_md() {
    let generator = Generator::new(DatasetSize::Small, 42, ANCHOR);
    let users = generator.users();
    let all = generator.all_projects();
    assert_eq!(users.len(), 1_000);
    assert_eq!(all.projects.len(), 2_000);
    for (i, user) in users.iter().enumerate() {
        let n = i + 1;
        assert_eq!(user.id, n as i64);
        assert_eq!(user.email, format!("user{n}@example.com"));
        assert_eq!(user.nickname, format!("user{n}"));
        assert_eq!(user.password, format!("password{n}"));
        assert!((ANCHOR - 365 * DAY..=ANCHOR).contains(&user.created));
    }

    // Members: 0-10 per project, mean 5, never the owner, never twice; heavy tail; roles.
    let owners: HashMap<i64, i64> = all.projects.iter().map(|p| (p.id, p.owner_id)).collect();
    let mut per_project: HashMap<i64, Vec<i64>> = HashMap::new();
    for m in &all.members {
        per_project.entry(m.project_id).or_default().push(m.user_id);
        assert_ne!(owners[&m.project_id], m.user_id, "an owner is never a member row");
    }
    for (project, members) in &per_project {
        assert!(members.len() <= 10);
        let distinct: HashSet<_> = members.iter().collect();
        assert_eq!(distinct.len(), members.len(), "project {project} has a duplicate member");
    }
    let members_mean = all.members.len() as f64 / 2_000.0;
    assert!((members_mean - 5.0).abs() < 0.3, "members/project mean {members_mean}");
    let power = all.members.iter().filter(|m| m.user_id <= 10).count() as f64;
    let share = power / all.members.len() as f64;
    assert!((share - 0.30).abs() < 0.01, "power users' share of memberships {share}");
    let max_projects_of_a_power_user =
        (1..=10).map(|u| all.members.iter().filter(|m| m.user_id == u).count()).max().unwrap();
    assert!(max_projects_of_a_power_user >= 100, "a power user sees 100+ projects");
    let role_share = |role: Role| {
        all.members.iter().filter(|m| m.role == role).count() as f64 / all.members.len() as f64
    };
    assert!((role_share(Role::Manager) - 0.10).abs() < 0.02);
    assert!((role_share(Role::Editor) - 0.40).abs() < 0.03);
    assert!((role_share(Role::Viewer) - 0.50).abs() < 0.03);

    // Phases: 8 per project, end 1-30 days after start, ~10% of dates null.
    let mut dates = 0;
    let mut nulls = 0;
    for p in &all.projects {
        assert!((1..=1_000).contains(&p.owner_id));
        assert!((ANCHOR - 365 * DAY..=ANCHOR).contains(&p.created));
        for (start, end) in p.phases {
            dates += 2;
            nulls += usize::from(start.is_none()) + usize::from(end.is_none());
            if let (Some(start), Some(end)) = (start, end) {
                assert!((DAY..=30 * DAY).contains(&(end - start)), "end 1-30 days after start");
            }
        }
    }
    let null_share = nulls as f64 / dates as f64;
    assert!((null_share - 0.10).abs() < 0.01, "null phase dates {null_share}");

    // Comments, messages, memos: ranges and means; authors among owner + members.
    let participants = |project: i64| {
        let mut all_of = per_project.get(&project).cloned().unwrap_or_default();
        all_of.push(owners[&project]);
        all_of
    };
    let mut comments_per: HashMap<i64, usize> = HashMap::new();
    for c in &all.comments {
        *comments_per.entry(c.project_id).or_default() += 1;
        let t = c.timecode.unwrap();
        assert!((0.0..=600.0).contains(&t));
        assert!(participants(c.project_id).contains(&c.user_id));
        assert!((ANCHOR - 365 * DAY..=ANCHOR).contains(&c.created));
    }
    assert!(comments_per.values().all(|&n| n <= 40));
    let comments_mean = mean(comments_per.values().copied(), 2_000);
    assert!((comments_mean - 20.0).abs() < 1.0, "comments/project mean {comments_mean}");
    let timecode_mean =
        all.comments.iter().map(|c| c.timecode.unwrap()).sum::<f64>() / all.comments.len() as f64;
    assert!((timecode_mean - 300.0).abs() < 10.0, "uniform timecodes, mean {timecode_mean}");
    let mut messages_per: HashMap<i64, usize> = HashMap::new();
    for m in &all.messages {
        *messages_per.entry(m.project_id).or_default() += 1;
        assert!(participants(m.project_id).contains(&m.user_id));
    }
    assert!(messages_per.values().all(|&n| n <= 20));
    assert!((mean(messages_per.values().copied(), 2_000) - 10.0).abs() < 0.6);
    let mut memos_per: HashMap<i64, usize> = HashMap::new();
    for m in &all.memos {
        *memos_per.entry(m.project_id).or_default() += 1;
    }
    assert!(memos_per.values().all(|&n| n <= 6));
    assert!((mean(memos_per.values().copied(), 2_000) - 3.0).abs() < 0.25);

    // Versions: 1-3 per project (mean 2), numbered 1..=n in upload order, `version_seq` the
    // highest; uploaded by the owner or an editor or manager, before the first comment.
    let mut versions_per: HashMap<i64, Vec<&reelplan_store::bulk::VersionRow>> = HashMap::new();
    for v in &all.versions {
        versions_per.entry(v.project_id).or_default().push(v);
    }
    let may_upload = |project: i64, user: i64| {
        owners[&project] == user
            || all
                .members
                .iter()
                .any(|m| m.project_id == project && m.user_id == user && m.role >= Role::Editor)
    };
    let first_comment: HashMap<i64, i64> = all.comments.iter().fold(HashMap::new(), |mut f, c| {
        f.entry(c.project_id).or_insert(c.created);
        f
    });
    for p in &all.projects {
        let versions = &versions_per[&p.id];
        assert!(
            (1..=3).contains(&versions.len()),
            "project {} has {} versions",
            p.id,
            versions.len()
        );
        assert_eq!(p.version_seq, versions.len() as i64);
        for (i, v) in versions.iter().enumerate() {
            assert_eq!(v.number, i as i64 + 1);
            assert!(may_upload(p.id, v.created_by), "version {} uploaded by a non-editor", v.id);
            assert!(p.created <= v.created && v.created <= ANCHOR);
            if let Some(&first) = first_comment.get(&p.id) {
                assert!(v.created <= first, "every comment follows its version's upload");
            }
            if i > 0 {
                assert!(versions[i - 1].created <= v.created);
            }
            assert!(v.fps.is_none_or(|fps| FrameRate::parse(fps).is_ok()));
            assert!(v.duration.is_none_or(|d| (600.0..=900.0).contains(&d)));
        }
    }
    let versions_mean = all.versions.len() as f64 / 2_000.0;
    assert!((versions_mean - 2.0).abs() < 0.1, "versions/project mean {versions_mean}");

    // One video row per version, in its project, keyed `seed/<project>/<number>`.
    assert_eq!(all.videos.len(), all.versions.len());
    for (v, f) in all.versions.iter().zip(&all.videos) {
        assert_eq!((v.file_id, v.project_id, v.created), (f.id, f.project_id, f.created));
        assert_eq!(f.storage_key, format!("seed/{}/{}", v.project_id, v.number));
        assert!(f.size > 0);
    }

    // Reviews: 0-3 per version by distinct members other than the uploader; mixed statuses,
    // the current versions' mostly not asking for changes, older ones' mostly asking.
    let version_of: HashMap<i64, &reelplan_store::bulk::VersionRow> =
        all.versions.iter().map(|v| (v.id, v)).collect();
    let mut reviews_per: HashMap<i64, Vec<i64>> = HashMap::new();
    let (mut current, mut current_changes, mut older, mut older_changes) = (0, 0, 0, 0);
    for r in &all.reviews {
        let v = version_of[&r.version_id];
        reviews_per.entry(v.id).or_default().push(r.user_id);
        assert_ne!(r.user_id, v.created_by, "nobody reviews their own upload");
        assert!(per_project[&v.project_id].contains(&r.user_id), "reviewers are members");
        assert!(v.created <= r.updated && r.updated <= ANCHOR);
        let changes = usize::from(r.status == ReviewStatus::ChangesRequested);
        if v.number == versions_per[&v.project_id].len() as i64 {
            (current, current_changes) = (current + 1, current_changes + changes);
        } else {
            (older, older_changes) = (older + 1, older_changes + changes);
        }
    }
    for reviewers in reviews_per.values() {
        let distinct: HashSet<_> = reviewers.iter().collect();
        assert!(reviewers.len() <= 3 && distinct.len() == reviewers.len());
    }
    for status in [ReviewStatus::Pending, ReviewStatus::Approved, ReviewStatus::ChangesRequested] {
        let share = all.reviews.iter().filter(|r| r.status == status).count() as f64
            / all.reviews.len() as f64;
        assert!(share > 0.1, "{status:?} is {share} of reviews");
    }
    assert!((current_changes as f64 / current as f64) < 0.3);
    assert!((older_changes as f64 / older as f64) > 0.5);
    let reviews_mean = all.reviews.len() as f64 / all.versions.len() as f64;
    assert!((1.0..2.0).contains(&reviews_mean), "reviews/version mean {reviews_mean}");

    // Every comment is on its project's current (highest) version.
    for c in &all.comments {
        let version = version_of[&c.version_id.expect("every comment has a version")];
        assert_eq!(version.project_id, c.project_id);
        assert_eq!(version.number, versions_per[&c.project_id].len() as i64);
    }

    // Ids are 1..=n in order, in every table.
    assert!(all.members.iter().enumerate().all(|(i, m)| m.id == i as i64 + 1));
    assert!(all.comments.iter().enumerate().all(|(i, c)| c.id == i as i64 + 1));
    assert!(all.versions.iter().enumerate().all(|(i, v)| v.id == i as i64 + 1));
    assert!(all.videos.iter().enumerate().all(|(i, f)| f.id == i as i64 + 1));
    assert!(all.reviews.iter().enumerate().all(|(i, r)| r.id == i as i64 + 1));
}

#[test]
fn same_seed_same_rows_other_seed_other_rows() {
    let a = Generator::new(DatasetSize::Small, 42, ANCHOR);
    let b = Generator::new(DatasetSize::Small, 42, ANCHOR);
    assert_eq!(a.users(), b.users());
    assert_eq!(a.all_projects(), b.all_projects());
    // Batching does not change the rows.
    let batched: Vec<_> = a.batches(7).flat_map(|batch| batch.comments).collect();
    assert_eq!(batched, b.all_projects().comments);
    let batched: Vec<_> = a.batches(7).flat_map(|batch| batch.reviews).collect();
    assert_eq!(batched, b.all_projects().reviews);
    let c = Generator::new(DatasetSize::Small, 43, ANCHOR);
    assert_ne!(a.all_projects().members, c.all_projects().members);
}
