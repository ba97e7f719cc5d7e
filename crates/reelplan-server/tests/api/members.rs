use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn adding_members_and_the_manager_rule() {
    let app = TestApp::spawn().await;
    let (ann, man, ed, x, y) = (
        app.user("ann").await,
        app.user("man").await,
        app.user("ed").await,
        app.user("x").await,
        app.user("y").await,
    );
    let id = app.project(&ann, "Team").await;
    let members = format!("/api/projects/{id}/members");
    let resp =
        app.post(&members, &ann, json!({"email": "MAN@example.com", "role": "manager"})).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let m = resp.result();
    assert_eq!(
        (m["user_id"].as_i64(), m["email"].as_str(), m["nickname"].as_str(), m["role"].as_str()),
        (Some(man.id), Some(man.email.as_str()), Some("man"), Some("manager"))
    );
    assert!(m["id"].is_i64() && m["created"].is_string());

    // A manager adds editors and viewers, but only the owner grants manager.
    app.post(&members, &man, json!({"email": ed.email, "role": "editor"})).await;
    app.post(&members, &man, json!({"email": x.email, "role": "manager"}))
        .await
        .assert_error(403, "forbidden");
    app.post(&members, &ed, json!({"email": x.email, "role": "viewer"}))
        .await
        .assert_error(403, "forbidden");
    app.post(&members, &man, json!({"email": "ghost@example.com", "role": "viewer"}))
        .await
        .assert_error(404, "not_found");
    app.post(&members, &man, json!({"email": ed.email, "role": "viewer"}))
        .await
        .assert_error(409, "conflict");
    app.post(&members, &ann, json!({"email": ann.email, "role": "viewer"}))
        .await
        .assert_error(409, "conflict");
    app.post(&members, &ann, json!({"email": x.email, "role": "owner"}))
        .await
        .assert_error(422, "validation");
    app.post(&members, &y, json!({"email": x.email, "role": "viewer"}))
        .await
        .assert_error(404, "not_found");

    let detail = app.get(&format!("/api/projects/{id}"), &ed).await;
    assert_eq!(detail.result()["my_role"], "editor");
    assert_eq!(detail.result()["member_count"], 2);
    let ids: Vec<_> = detail.result()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![man.id, ed.id], "ordered by id, owner not included");
    app.finish().await;
}

#[tokio::test]
async fn changing_and_removing_members() {
    let app = TestApp::spawn().await;
    let (ann, man, man2, ed) = (
        app.user("ann").await,
        app.user("man").await,
        app.user("man2").await,
        app.user("ed").await,
    );
    let id = app.project(&ann, "Team").await;
    let m_man = app.add_member(&ann, id, &man, "manager").await;
    let m_man2 = app.add_member(&ann, id, &man2, "manager").await;
    let m_ed = app.add_member(&ann, id, &ed, "editor").await;
    let member = |m: i64| format!("/api/projects/{id}/members/{m}");

    let resp = app.patch(&member(m_ed), &man, json!({"role": "viewer"})).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.result()["role"], "viewer");
    assert_eq!(resp.result()["email"], ed.email);
    app.patch(&member(m_ed), &man, json!({"role": "manager"})).await.assert_error(403, "forbidden");
    app.patch(&member(m_man2), &man, json!({"role": "viewer"}))
        .await
        .assert_error(403, "forbidden");
    app.delete(&member(m_man2), &man).await.assert_error(403, "forbidden");
    app.patch(&member(m_ed), &ed, json!({"role": "editor"})).await.assert_error(403, "forbidden");
    app.patch(&member(999_999), &man, json!({"role": "viewer"}))
        .await
        .assert_error(404, "not_found");
    app.patch(&member(m_ed), &man, json!({"role": "boss"})).await.assert_error(422, "validation");
    assert_eq!(
        app.patch(&member(m_man2), &ann, json!({"role": "editor"})).await.status,
        StatusCode::OK
    );

    // A viewer leaves on their own; a manager removes an editor; the owner removes a manager.
    assert_eq!(app.delete(&member(m_ed), &ed).await.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/projects/{id}"), &ed).await.assert_error(404, "not_found");
    assert!(app.get("/api/projects", &ed).await.ids().is_empty());
    assert_eq!(app.delete(&member(m_man2), &man).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&member(m_man), &ann).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/projects/{id}"), &ann).await.result()["member_count"], 0);
    app.delete(&member(m_man), &ann).await.assert_error(404, "not_found");
    app.finish().await;
}

/// Every project route and every kind of caller: the exact status of the contract.
#[tokio::test]
async fn role_matrix() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner").await;
    let callers = [
        app.user("manager").await,
        app.user("editor").await,
        app.user("viewer").await,
        app.user("stranger").await,
        app.user("gone").await,
    ];
    let [manager, editor, viewer, stranger, gone] = &callers;
    let id = app.project(&owner, "Matrix").await;
    app.add_member(&owner, id, manager, "manager").await;
    app.add_member(&owner, id, editor, "editor").await;
    app.add_member(&owner, id, viewer, "viewer").await;
    let gone_member = app.add_member(&owner, id, gone, "editor").await;
    app.delete(&format!("/api/projects/{id}/members/{gone_member}"), &owner).await;

    let p = format!("/api/projects/{id}");
    let date = json!({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-01-02T00:00:00Z"});
    // (who, method, path, body) -> expected status for owner, manager, editor, viewer, stranger, removed.
    type Case = (&'static str, String, Option<serde_json::Value>, [u16; 6]);
    let cases: Vec<Case> = vec![
        ("GET", p.clone(), None, [200, 200, 200, 200, 404, 404]),
        ("PATCH", p.clone(), Some(json!({"description": "d"})), [200, 200, 403, 403, 404, 404]),
        ("PUT", format!("{p}/phases/filming"), Some(date), [200, 200, 200, 403, 404, 404]),
        ("GET", format!("{p}/feedback/comments"), None, [200, 200, 200, 200, 404, 404]),
        (
            "POST",
            format!("{p}/feedback/comments"),
            Some(json!({"text": "t", "timecode": 1.5})),
            [201, 201, 201, 201, 404, 404],
        ),
        ("GET", format!("{p}/feedback/messages"), None, [200, 200, 200, 200, 404, 404]),
        (
            "POST",
            format!("{p}/feedback/messages"),
            Some(json!({"text": "t"})),
            [201, 201, 201, 201, 404, 404],
        ),
        (
            "POST",
            format!("{p}/memos"),
            Some(json!({"date": "2026-01-01T00:00:00Z", "text": "t"})),
            [201, 201, 201, 403, 404, 404],
        ),
        (
            "POST",
            format!("{p}/members"),
            Some(json!({"email": "nobody@example.com", "role": "viewer"})),
            [404, 404, 403, 403, 404, 404],
        ),
    ];
    let everyone = [&owner, manager, editor, viewer, stranger, gone];
    for (method, path, body, expected) in cases {
        for (caller, want) in everyone.iter().zip(expected) {
            let resp =
                app.call(method.parse().unwrap(), &path, Some(&caller.token), body.clone()).await;
            assert_eq!(
                resp.status.as_u16(),
                want,
                "{method} {path} as {}: {:?}",
                caller.email,
                resp.body
            );
        }
    }
    // Deleting: only the owner; everyone else is refused first.
    for (caller, want) in everyone.iter().skip(1).zip([403, 403, 403, 404, 404]) {
        assert_eq!(app.delete(&p, caller).await.status.as_u16(), want);
    }
    assert_eq!(app.delete(&p, &owner).await.status, StatusCode::NO_CONTENT);
    app.finish().await;
}

/// A manager demoted while their role change waits for the members table is refused: the
/// update itself checks the caller's role, under the snapshot it writes with, so no access
/// list read before the demotion lets one more change through. PostgreSQL only: the test holds
/// the table lock from a connection of its own.
#[tokio::test]
async fn a_manager_demoted_while_their_change_waits_is_refused() {
    let app = TestApp::spawn().await;
    if !app.is_postgres() {
        println!("skipped: needs PostgreSQL (DATABASE_URL)");
        return app.finish().await;
    }
    let (ann, mia, vic) = (app.user("ann").await, app.user("mia").await, app.user("vic").await);
    let id = app.project(&ann, "Race").await;
    app.add_member(&ann, id, &mia, "manager").await;
    let vic_member = app.add_member(&ann, id, &vic, "viewer").await;

    let db = sqlx::PgPool::connect(&app.config.database.url).await.unwrap();
    let mut owner_session = db.begin().await.unwrap();
    sqlx::query("LOCK TABLE members IN EXCLUSIVE MODE").execute(&mut *owner_session).await.unwrap();
    let path = format!("/api/projects/{id}/members/{vic_member}");
    let change = app.patch(&path, &mia, json!({"role": "editor"}));
    let demote = async {
        let waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted \
                       AND relation = 'members'::regclass";
        for _ in 0..500 {
            if sqlx::query_scalar::<_, i64>(waiting).fetch_one(&db).await.unwrap() > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        sqlx::query("UPDATE members SET role = 'viewer' WHERE project_id = $1 AND user_id = $2")
            .bind(id)
            .bind(mia.id)
            .execute(&mut *owner_session)
            .await
            .unwrap();
        owner_session.commit().await.unwrap();
    };
    let (resp, ()) = tokio::join!(change, demote);
    resp.assert_error(403, "forbidden");
    let role = sqlx::query_scalar::<_, String>("SELECT role FROM members WHERE id = $1")
        .bind(vic_member)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(role, "viewer", "the demoted manager changed nothing");
    db.close().await;
    app.finish().await;
}
