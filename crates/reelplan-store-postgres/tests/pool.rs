//! Pool behaviour the server relies on: a lazy start while the database is down, and the
//! statement timeout set on every connection.

use std::time::Duration;

use reelplan_store::prelude::*;
use reelplan_store::StoreError;
use reelplan_store_postgres::{connect, PgOptions};

#[tokio::test]
async fn starts_while_the_database_is_down_and_reports_unavailable() {
    let options = PgOptions {
        max_connections: 2,
        acquire_timeout: Duration::from_secs(2),
        statement_timeout: Duration::from_secs(1),
    };
    let store = connect("postgres://postgres@127.0.0.1:1/nothing", options).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    assert_eq!(store.pool_status().max, 2);
    assert!(matches!(store.ping().await, Err(StoreError::Unavailable(_))));
}

#[tokio::test]
async fn every_connection_has_the_statement_timeout() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL not set");
        return;
    };
    let options = PgOptions {
        max_connections: 1,
        acquire_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_millis(1500),
    };
    let store = connect(&url, options).await.unwrap();
    store.ping().await.unwrap();
    let timeout: String =
        sqlx::query_scalar("SHOW statement_timeout").fetch_one(store.pool()).await.unwrap();
    assert_eq!(timeout, "1500ms");
    let slow = sqlx::query("SELECT pg_sleep(3)").execute(store.pool()).await.unwrap_err();
    assert!(matches!(StoreError::from(slow), StoreError::Unavailable(_)));
    assert_eq!(store.pool_status().max, 1);
    store.pool().close().await;
}

#[tokio::test]
async fn migrate_learns_the_server_connection_limit() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL not set");
        return;
    };
    let (store, guard) = reelplan_store_postgres::connect_isolated_for_tests(&url).await.unwrap();
    let expected: String =
        sqlx::query_scalar("SHOW max_connections").fetch_one(store.pool()).await.unwrap();
    // The isolated store was migrated on creation; the limit is known without another query.
    assert_eq!(store.pool_status().server_limit, Some(expected.parse().unwrap()));
    guard.drop_database().await;
}
