//! The backend conformance suite of `reelplan-store`, run on SQLite: each section on its own
//! fresh temp-file database, and all of them together on one more.

mod common;

use common::TempDb;
use reelplan_store::conformance;

macro_rules! sections {
    ($($section:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $section() {
            let db = TempDb::new(stringify!($section)).await;
            conformance::$section(&db.store).await;
            db.finish().await;
        }
    )*};
}

sections!(
    basics,
    users,
    projects,
    phases,
    project_list,
    list_filters,
    members,
    feedback,
    memos,
    files,
    versions,
    threads,
    cascade,
    footprint,
    events,
);

#[tokio::test]
async fn all_sections_on_one_database() {
    let db = TempDb::new("all").await;
    conformance::run_all(&db.store).await;
    // Twice: the suite does not depend on an empty database.
    conformance::run_all(&db.store).await;
    db.finish().await;
}
