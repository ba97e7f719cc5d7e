//! EXPLAIN of the hot statements on a realistic amount of data: none may scan users, projects,
//! members, comments, messages or events sequentially, in a custom plan (the first executions
//! of a prepared statement) or in the generic plan PostgreSQL may switch to afterwards.

use std::time::Instant;

use reelplan_store_postgres::sql::{events, feedback, projects, versions};
use reelplan_store_postgres::{connect_isolated_for_tests, PgStore};
use serde_json::Value;
use sqlx::pool::PoolConnection;
use sqlx::Postgres;

/// 50,000 users each owning one project; 1-9 members per project (5 on average) plus user 1,
/// a member of about 300 projects; 15 comments, 5 messages, 2 memos per project; some files;
/// about a million events: every project's creation, member added and comment posted, and
/// 2,000 projects deleted since.
const SEED: &str = r#"
SET session_replication_role = replica;

INSERT INTO users (id, email, nickname, password_hash, created, updated)
SELECT g, 'user' || g || '@example.com', 'User ' || g,
       '$argon2id$v=19$m=19456,t=2,p=1$c2VlZA$c2VlZHNlZWRzZWVkc2VlZA',
       t, t
FROM generate_series(1, 50000) g,
     LATERAL (SELECT timestamptz '2024-01-01 00:00:00+00' + g * interval '10 minutes' AS t) x;
SELECT setval(pg_get_serial_sequence('users', 'id'), 50000);

-- Members first (no FK checks while seeding), so projects can carry their member_count.
INSERT INTO members (project_id, user_id, role, created)
SELECT g, u.uid, (ARRAY['viewer', 'editor', 'manager'])[1 + (g + k) % 3],
       timestamptz '2024-01-01 00:00:00+00' + g * interval '20 minutes' + k * interval '1 hour'
FROM generate_series(1, 50000) g
CROSS JOIN LATERAL generate_series(1, 1 + g % 9) k
CROSS JOIN LATERAL (SELECT (g * 7919 + k * 4729) % 50000 + 1 AS uid) u
WHERE u.uid <> (g * 37) % 50000 + 1;

INSERT INTO members (project_id, user_id, role, created)
SELECT g, 1, 'viewer', timestamptz '2024-01-02 00:00:00+00' + g * interval '20 minutes'
FROM generate_series(166, 50000, 166) g WHERE (g * 37) % 50000 + 1 <> 1
ON CONFLICT (project_id, user_id) DO NOTHING;

INSERT INTO projects (id, owner_id, name, manager, consumer, description, color, created,
    updated, basic_plan_start, basic_plan_end, story_board_start, story_board_end,
    filming_start, filming_end, video_edit_start, video_edit_end,
    post_work_start, post_work_end, video_preview_start, video_preview_end,
    confirmation_start, confirmation_end, video_delivery_start, video_delivery_end, member_count)
SELECT g, (g * 37) % 50000 + 1,
       'Project ' || g || ' ' || (ARRAY['Spring', 'Summer', 'Autumn', 'Winter', 'Launch',
           'Promo', 'Brand', 'Docu'])[1 + g % 8] || ' film',
       'Manager ' || g % 100, 'Client ' || g % 500, 'A short video about thing ' || g,
       CASE WHEN g % 3 = 0 THEN '#336699' END, c, c,
       s + interval '1 day', s + interval '6 days', s + interval '8 days', s + interval '13 days',
       s + interval '15 days', s + interval '20 days', s + interval '22 days', s + interval '27 days',
       s + interval '29 days', s + interval '34 days', s + interval '36 days', s + interval '41 days',
       s + interval '43 days', s + interval '48 days', s + interval '50 days', s + interval '55 days',
       (SELECT count(*) FROM members m WHERE m.project_id = g)
FROM generate_series(1, 50000) g,
     LATERAL (SELECT timestamptz '2024-01-01 00:00:00+00' + g * interval '20 minutes' AS c) x,
     LATERAL (SELECT CASE WHEN g % 5 <> 0 THEN c END AS s) y;
SELECT setval(pg_get_serial_sequence('projects', 'id'), 50000);

INSERT INTO comments (project_id, user_id, text, timecode, created)
SELECT p.id, (p.id * 7919 + (k % 3) * 4729) % 50000 + 1,
       'Comment ' || k || ' on project ' || p.id || ': the cut around here needs another look',
       CASE WHEN k % 4 <> 0 THEN k * 7.5 END, p.created + k * interval '1 hour'
FROM projects p CROSS JOIN generate_series(1, 15) k;

INSERT INTO messages (project_id, user_id, text, created)
SELECT p.id, (p.id * 7919 + (k % 2) * 4729) % 50000 + 1,
       'Message ' || k || ' about project ' || p.id, p.created + k * interval '90 minutes'
FROM projects p CROSS JOIN generate_series(1, 5) k;

INSERT INTO memos (project_id, user_id, date, text, created)
SELECT p.id, p.owner_id, p.created + k * interval '3 days', 'Memo ' || k, p.created
FROM projects p CROSS JOIN generate_series(1, 2) k;

INSERT INTO files (project_id, kind, name, content_type, size, storage_key, created)
SELECT p.id, CASE WHEN p.id % 2 = 0 THEN 'video' ELSE 'file' END,
       'cut-' || p.id || '.mp4', 'video/mp4', 1000000 + p.id, 'key/' || p.id, p.created
FROM projects p WHERE p.id % 3 = 0;

-- Every video a version (one or two per project that has one), with a couple of reviews.
INSERT INTO versions (project_id, number, file_id, created_by, created)
SELECT f.project_id, 1, f.id, (SELECT owner_id FROM projects WHERE id = f.project_id), f.created
FROM files f WHERE f.kind = 'video';
INSERT INTO files (project_id, kind, name, content_type, size, storage_key, created)
SELECT p.id, 'video', 'cut2-' || p.id || '.mp4', 'video/mp4', 1000, 'key2/' || p.id, p.created
FROM projects p WHERE p.id % 4 = 0;
INSERT INTO versions (project_id, number, file_id, created_by, created)
SELECT f.project_id, 1 + (SELECT count(*) FROM versions v WHERE v.project_id = f.project_id),
       f.id, (SELECT owner_id FROM projects WHERE id = f.project_id), f.created
FROM files f WHERE f.storage_key LIKE 'key2/%';
UPDATE projects p SET version_seq = (SELECT count(*) FROM versions v WHERE v.project_id = p.id);
INSERT INTO reviews (version_id, user_id, status, updated)
SELECT v.id, m.user_id, (ARRAY['approved', 'pending', 'changes_requested'])[1 + m.id % 3],
       v.created
FROM versions v JOIN members m ON m.project_id = v.project_id WHERE m.id % 2 = 0;
UPDATE comments c SET version_id = (SELECT v.id FROM versions v WHERE v.project_id = c.project_id
                                    ORDER BY v.number DESC LIMIT 1);

-- The log in the order it was written; user 1 took part in every tenth deleted project.
INSERT INTO events (type, project_id, object_id, actor_id, subject_id, audience, created)
SELECT x.type, x.project_id, x.object_id, x.actor_id, x.subject_id, x.audience, x.created
FROM (
    SELECT 'project.updated' AS type, p.id AS project_id, p.id AS object_id,
           p.owner_id AS actor_id, p.owner_id AS subject_id, NULL::bigint[] AS audience,
           p.created
    FROM projects p
    UNION ALL
    SELECT 'member.added', m.project_id, m.id, p.owner_id, m.user_id, NULL, m.created
    FROM members m JOIN projects p ON p.id = m.project_id
    UNION ALL
    SELECT 'comment.created', c.project_id, c.id, c.user_id, NULL, NULL, c.created
    FROM comments c
    UNION ALL
    SELECT 'project.deleted', 50000 + g, 50000 + g, (g * 13) % 50000 + 1, NULL,
           ARRAY[(g * 13) % 50000 + 1, (g * 17) % 50000 + 1,
                 CASE WHEN g % 10 = 0 THEN 1 ELSE (g * 19) % 50000 + 1 END],
           timestamptz '2025-01-01 00:00:00+00' + g * interval '1 hour'
    FROM generate_series(1, 2000) g
) x
ORDER BY x.created;

RESET session_replication_role;
ANALYZE;
"#;

/// Tables that must never be read whole by a hot statement.
const NO_SEQ_SCAN: [&str; 8] =
    ["users", "projects", "members", "comments", "messages", "versions", "reviews", "events"];

/// Reading every event since the resumed id in id order, for the few of them that are a user's:
/// a stream's start must find its events by project, subject and audience instead.
const LOG_WALK: &str = "Index Scan on events using events_pkey";

/// An ordinary user: owns one project and is a member of a handful.
const ORDINARY: i64 = 25_000;
/// The heavy-tail user, a member of about 300 projects.
const HEAVY: i64 = 1;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_statements_use_indexes() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL not set");
        return;
    };
    let (store, db) = connect_isolated_for_tests(&url).await.unwrap();
    let outcome = check(&store).await;
    db.drop_database().await;
    if let Err(failures) = outcome {
        panic!("sequential scans found:\n{}", failures.join("\n"));
    }
}

async fn check(store: &PgStore) -> Result<(), Vec<String>> {
    let mut conn = store.pool().acquire().await.unwrap();
    let started = Instant::now();
    sqlx::raw_sql(SEED).execute(&mut *conn).await.unwrap();
    println!("seeded in {:.1?}", started.elapsed());
    let heavy_count: i64 = sqlx::query_scalar("SELECT count(*) FROM members WHERE user_id = $1")
        .bind(HEAVY)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert!(heavy_count >= 300, "the heavy user is a member of {heavy_count} projects");

    let project = 30_000;
    let (comment_at, comment_id): (String, i64) = sqlx::query_as(
        "SELECT created::text, id FROM comments WHERE project_id = $1 ORDER BY created, id \
         OFFSET 9 LIMIT 1",
    )
    .bind(project)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let (message_at, message_id): (String, i64) = sqlx::query_as(
        "SELECT created::text, id FROM messages WHERE project_id = $1 ORDER BY created DESC, id \
         DESC OFFSET 2 LIMIT 1",
    )
    .bind(project)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let (list_at, list_id): (String, i64) =
        sqlx::query_as("SELECT created::text, id FROM projects WHERE id = 40000")
            .fetch_one(&mut *conn)
            .await
            .unwrap();

    // A stream resuming a little while ago, and one resuming from half the log ago.
    let (recent, old): (i64, i64) =
        sqlx::query_as("SELECT max(id) - 20000, max(id) / 2 FROM events")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    let activity_id: i64 = sqlx::query_scalar(
        "SELECT id FROM events WHERE project_id = $1 ORDER BY id DESC OFFSET 9 LIMIT 1",
    )
    .bind(project)
    .fetch_one(&mut *conn)
    .await
    .unwrap();

    let cases: Vec<(&str, &str, String)> = vec![
        (
            "list, ordinary user",
            projects::LIST,
            format!("{ORDINARY}, NULL, NULL, NULL, NULL, NULL, 21"),
        ),
        (
            "list, 300-project user",
            projects::LIST,
            format!("{HEAVY}, NULL, NULL, NULL, NULL, NULL, 21"),
        ),
        (
            "list, 300-project user, page 2",
            projects::LIST,
            format!("{HEAVY}, NULL, NULL, NULL, '{list_at}', {list_id}, 21"),
        ),
        (
            "list, q search",
            projects::LIST,
            format!("{HEAVY}, '%spring%', NULL, NULL, NULL, NULL, 21"),
        ),
        (
            "list, active range",
            projects::LIST,
            format!("{ORDINARY}, NULL, '2024-06-01Z', '2025-06-01Z', NULL, NULL, 21"),
        ),
        ("project detail", projects::DETAIL, format!("{project}")),
        (
            "comments page 1",
            feedback::COMMENTS_PAGE,
            format!("{project}, NULL, NULL, 51, NULL, NULL"),
        ),
        (
            "comments page 2",
            feedback::COMMENTS_PAGE,
            format!("{project}, '{comment_at}', {comment_id}, 51, NULL, NULL"),
        ),
        (
            "comments of one version, open ones",
            feedback::COMMENTS_PAGE,
            format!("{project}, NULL, NULL, 51, 1, false"),
        ),
        ("versions page 1", versions::PAGE, format!("{project}, NULL, 21")),
        ("messages page 1", feedback::MESSAGES_PAGE, format!("{project}, NULL, NULL, 51")),
        (
            "messages page 2",
            feedback::MESSAGES_PAGE,
            format!("{project}, '{message_at}', {message_id}, 51"),
        ),
        ("stream start, ordinary user", events::STREAM_START, format!("{ORDINARY}, NULL, 101")),
        (
            "stream start, ordinary user, resuming",
            events::STREAM_START,
            format!("{ORDINARY}, {recent}, 101"),
        ),
        (
            "stream start, 300-project user, resuming",
            events::STREAM_START,
            format!("{HEAVY}, {recent}, 101"),
        ),
        (
            "stream start, 300-project user, resuming from long ago",
            events::STREAM_START,
            format!("{HEAVY}, {old}, 101"),
        ),
        ("events after", events::AFTER, format!("{recent}, 101")),
        ("activity page 1", events::ACTIVITY_PAGE, format!("{project}, NULL, 21")),
        ("activity page 2", events::ACTIVITY_PAGE, format!("{project}, {activity_id}, 21")),
    ];

    let mut failures = Vec::new();
    for (i, (name, sql, args)) in cases.iter().enumerate() {
        let statement = format!("s{i}");
        sqlx::raw_sql(&format!("PREPARE {statement} AS {sql}")).execute(&mut *conn).await.unwrap();
        for mode in ["force_custom_plan", "force_generic_plan"] {
            let plan = explain(&mut conn, mode, &statement, args).await;
            let mut nodes = Vec::new();
            walk(&plan[0]["Plan"], &mut nodes);
            println!("{name} [{mode}]: {}", nodes.join(", "));
            for node in &nodes {
                let walks_the_log = *sql == events::STREAM_START && node == LOG_WALK;
                if walks_the_log || NO_SEQ_SCAN.iter().any(|t| *node == format!("Seq Scan on {t}"))
                {
                    failures.push(format!("{name} [{mode}]: {node}"));
                }
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

/// EXPLAIN (FORMAT JSON) of a prepared statement in one plan-cache mode.
async fn explain(
    conn: &mut PoolConnection<Postgres>,
    mode: &str,
    statement: &str,
    args: &str,
) -> Value {
    sqlx::raw_sql(&format!("SET plan_cache_mode = {mode}")).execute(&mut **conn).await.unwrap();
    let sql = format!("EXPLAIN (FORMAT JSON) EXECUTE {statement}({args})");
    sqlx::query_scalar::<_, Value>(&sql).fetch_one(&mut **conn).await.unwrap()
}

/// Every scan node of a plan as "<node type> on <table> [using <index>]".
fn walk(plan: &Value, out: &mut Vec<String>) {
    if let Some(table) = plan["Relation Name"].as_str() {
        let mut node = format!("{} on {table}", plan["Node Type"].as_str().unwrap_or("?"));
        if let Some(index) = plan["Index Name"].as_str() {
            node.push_str(&format!(" using {index}"));
        }
        out.push(node);
    } else if let Some(index) = plan["Index Name"].as_str() {
        out.push(format!("{} using {index}", plan["Node Type"].as_str().unwrap_or("?")));
    }
    for child in plan["Plans"].as_array().into_iter().flatten() {
        walk(child, out);
    }
}
