//! The generator matches BENCHMARK.md on `small`, and is deterministic.

use std::collections::{HashMap, HashSet};

use reelplan_bench::dataset::{DatasetSize, Generator};
use reelplan_domain::Role;

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

    // Ids are 1..=n in order, in every table.
    assert!(all.members.iter().enumerate().all(|(i, m)| m.id == i as i64 + 1));
    assert!(all.comments.iter().enumerate().all(|(i, c)| c.id == i as i64 + 1));
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
    let c = Generator::new(DatasetSize::Small, 43, ANCHOR);
    assert_ne!(a.all_projects().members, c.all_projects().members);
}
