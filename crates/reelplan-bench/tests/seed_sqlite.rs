//! `reelplan seed` into a fresh SQLite file; the store's own read methods then see the
//! generated counts, member_count included; a second seed needs `--force`.

use std::path::PathBuf;

use reelplan_bench::dataset::{DatasetSize, Generator};
use reelplan_bench::seed::{seed, SeedOptions};
use reelplan_domain::{Email, ProjectId, UserId};
use reelplan_store::{PageRequest, ProjectFilter};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reelplan-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_into_fresh_sqlite_then_store_reads_see_the_counts() {
    let dir = temp_dir("seed");
    let config = reelplan_server::Config::embedded(dir.clone());
    let (store, bulk) = reelplan_server::open_bulk_loader(&config.database).await.unwrap();
    let anchor = "2026-03-01T00:00:00Z".parse().unwrap();
    let options = SeedOptions {
        anchor: Some(anchor),
        batch_projects: 30,
        ..SeedOptions::new(DatasetSize::Tiny)
    };
    let report = seed(store.as_ref(), bulk.as_ref(), &options).await.unwrap();

    let generator = Generator::new(DatasetSize::Tiny, 42, options.anchor_micros());
    let all = generator.all_projects();
    assert_eq!(report.users, 50);
    assert_eq!(report.projects, 100);
    assert_eq!(report.members, all.members.len() as u64);
    assert_eq!(report.comments, all.comments.len() as u64);
    assert_eq!(bulk.user_count().await.unwrap(), 50);

    for project in &all.projects {
        let detail = store.project_detail(ProjectId(project.id)).await.unwrap().unwrap();
        let count = |v: &[i64]| v.iter().filter(|&&p| p == project.id).count();
        let members: Vec<i64> = all.members.iter().map(|m| m.project_id).collect();
        let comments: Vec<i64> = all.comments.iter().map(|c| c.project_id).collect();
        let messages: Vec<i64> = all.messages.iter().map(|m| m.project_id).collect();
        let memos: Vec<i64> = all.memos.iter().map(|m| m.project_id).collect();
        assert_eq!(detail.members.len(), count(&members));
        assert_eq!(detail.core.member_count, count(&members) as i64, "member_count is consistent");
        assert_eq!(detail.feedback.comment_count, count(&comments) as i64);
        assert_eq!(detail.feedback.message_count, count(&messages) as i64);
        assert_eq!(detail.memos.len(), count(&memos));
        assert_eq!(detail.core.owner.id, UserId(project.owner_id));
    }

    // User 1 (the power user of `tiny`) sees every project they own or belong to.
    let expected = all
        .projects
        .iter()
        .filter(|p| {
            p.owner_id == 1 || all.members.iter().any(|m| m.project_id == p.id && m.user_id == 1)
        })
        .count();
    let page = PageRequest { limit: 101, after: None };
    let listed = store.list_projects(UserId(1), &ProjectFilter::default(), page).await.unwrap();
    assert_eq!(listed.len(), expected);

    let credentials =
        store.credentials(&Email::parse("user7@example.com").unwrap()).await.unwrap().unwrap();
    assert!(credentials.password_hash.starts_with("$argon2id$v=19$m=256,t=1,p=1$"));

    // A second seed refuses, unless forced; forced, it gives the same rows again.
    let refused = seed(store.as_ref(), bulk.as_ref(), &options).await;
    assert!(refused.unwrap_err().to_string().contains("--force"));
    let forced = SeedOptions { force: true, ..options.clone() };
    let again = seed(store.as_ref(), bulk.as_ref(), &forced).await.unwrap();
    assert_eq!(again.comments, report.comments);
    assert_eq!(bulk.user_count().await.unwrap(), 50);
    let _ = std::fs::remove_dir_all(dir);
}
