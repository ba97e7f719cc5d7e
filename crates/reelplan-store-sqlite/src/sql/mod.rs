//! The statements, one module per resource. Each function runs exactly one statement.

pub mod feedback;
pub mod files;
pub mod members;
pub mod memos;
pub mod projects;
pub mod users;

use reelplan_store::StoreResult;
use serde::de::DeserializeOwned;

/// Parses a JSON document built in SQL.
pub(crate) fn parse<T: DeserializeOwned>(document: &str) -> StoreResult<T> {
    Ok(serde_json::from_str(document)?)
}

/// Parses an optional JSON document built in SQL.
pub(crate) fn parse_opt<T: DeserializeOwned>(document: Option<String>) -> StoreResult<Option<T>> {
    document.as_deref().map(parse).transpose()
}

#[cfg(test)]
mod tests {
    use reelplan_store::prelude::*;

    /// The hot reads search by index: no full scan of a table, whatever the data size.
    #[tokio::test]
    async fn hot_statements_never_scan_a_table() {
        let dir = std::env::temp_dir().join(format!("reelplan-plans-{}", std::process::id()));
        let url = format!("sqlite://{}/plans.db", dir.display());
        let store = crate::SqliteStore::open(&url, 1).await.unwrap();
        store.migrate().await.unwrap();
        let tables = ["users", "projects", "members", "comments", "messages", "memos", "files"];
        for sql in [
            super::projects::LIST,
            super::projects::DETAIL,
            super::projects::FEEDBACK,
            super::projects::MEMBERSHIPS_PAGE,
            super::projects::SUMMARIES,
            super::feedback::COMMENTS_PAGE,
            super::feedback::COMMENTS_HEAD,
            super::feedback::MESSAGES_PAGE,
            super::members::ACCESS,
            super::members::INVITE_CONTEXT,
            super::users::FOOTPRINT,
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
}
