//! The plans of the hot statements: none may scan a table, in the very text the store runs.

use reelplan_store::prelude::*;
use reelplan_store_sqlite::{sql, SqliteStore};

/// The hot reads search by index: no full scan of a table, whatever the data size.
#[tokio::test]
async fn hot_statements_never_scan_a_table() {
    let dir = std::env::temp_dir().join(format!("reelplan-plans-{}", std::process::id()));
    let url = format!("sqlite://{}/plans.db", dir.display());
    let store = SqliteStore::open(&url, 1).await.unwrap();
    store.migrate().await.unwrap();
    let tables = [
        "users", "projects", "members", "comments", "messages", "memos", "files", "versions",
        "reviews", "events",
    ];
    for sql in [
        sql::projects::LIST,
        sql::projects::DETAIL,
        sql::projects::FEEDBACK,
        sql::projects::MEMBERSHIPS_PAGE,
        sql::projects::SUMMARIES,
        sql::feedback::COMMENTS_PAGE,
        sql::feedback::COMMENTS_HEAD,
        sql::feedback::MESSAGES_PAGE,
        sql::versions::PAGE,
        sql::versions::VERSION,
        sql::versions::EXPORT,
        sql::members::ACCESS,
        sql::members::INVITE_CONTEXT,
        sql::users::FOOTPRINT,
        sql::events::STREAM_START,
        sql::events::AFTER,
        sql::events::ACTIVITY_PAGE,
        sql::events::PRUNE,
    ] {
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                .fetch_all(store.pool())
                .await
                .unwrap();
        for (_, _, _, step) in &plan {
            let scanned = step.strip_prefix("SCAN ").and_then(|rest| rest.split(' ').next());
            assert!(
                !scanned.is_some_and(|table| tables.contains(&table)),
                "{step} in the plan of {sql}"
            );
        }
    }
    store.close().await;
    std::fs::remove_dir_all(dir).unwrap();
}
