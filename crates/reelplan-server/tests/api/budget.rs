//! The query budget of DESIGN.md, asserted exactly, and independent of the data's size.

use axum::http::StatusCode;
use reelplan_domain::{DiscussionText, ProjectId, ProjectName, Role, Timecode, UserId};
use reelplan_store::{NewComment, NewProject, UserRef};
use serde_json::json;

use crate::helpers::{TestApp, TestUser};

/// Statements of each GET on a miss, then on a hit.
///
/// A list whose memberships and summaries are all cold warms in two reads of one statement
/// each: the first reads memberships and page together but cannot fill the page's summaries,
/// since it held no tag for them before its statement ran (filling under a tag taken after it
/// could store an older value under a newer tag). The second loads the summaries it misses.
async fn read_counts(app: &TestApp, user: &TestUser, project: i64) -> Vec<(String, u32, u32)> {
    let paths = [
        "/api/me".to_owned(),
        "/api/projects".to_owned(),
        format!("/api/projects/{project}"),
        format!("/api/projects/{project}/feedback/comments"),
        format!("/api/projects/{project}/feedback/messages"),
    ];
    app.chill(user, project).await;
    let mut counts = Vec::new();
    for path in paths {
        let miss = app.get(&path, user).await;
        assert_eq!(miss.status, StatusCode::OK, "{path}: {:?}", miss.body);
        assert_eq!(miss.cache(), "MISS", "{path}");
        let mut hit = app.get(&path, user).await;
        if path == "/api/projects" && hit.cache() == "MISS" {
            assert_eq!(hit.queries(), 1, "{path}: the summaries the first read could not fill");
            hit = app.get(&path, user).await;
        }
        assert_eq!(hit.cache(), "HIT", "{path}");
        assert_eq!(hit.body, miss.body, "{path}: a hit answers exactly what the miss did");
        counts.push((path, miss.queries(), hit.queries()));
    }
    counts
}

#[tokio::test]
async fn every_endpoint_runs_its_budgeted_statements() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let post = app.post("/api/projects", &ann, json!({"name": "Budget"})).await;
    assert_eq!(post.queries(), 2, "create: insert + detail");
    let id = post.result()["id"].as_i64().unwrap();
    let p = format!("/api/projects/{id}");

    for (path, miss, hit) in read_counts(&app, &ann, id).await {
        assert_eq!((miss, hit), (1, 0), "{path}");
    }
    let writes = [
        ("PATCH me", app.patch("/api/me", &ann, json!({"nickname": "Ann"})).await, 2),
        // The role checks of these writes are part of their own statement.
        ("PATCH project", app.patch(&p, &ann, json!({"name": "B2"})).await, 2),
        (
            "PUT phase",
            app.put(
                &format!("{p}/phases/filming"),
                &ann,
                json!({"start_date": null, "end_date": null}),
            )
            .await,
            2,
        ),
        (
            "POST member",
            app.post(&format!("{p}/members"), &ann, json!({"email": bob.email, "role": "editor"}))
                .await,
            3,
        ),
        (
            "POST comment",
            app.post(&format!("{p}/feedback/comments"), &bob, json!({"text": "c"})).await,
            2,
        ),
        (
            "POST message",
            app.post(&format!("{p}/feedback/messages"), &bob, json!({"text": "m"})).await,
            1,
        ),
        (
            "POST memo",
            app.post(
                &format!("{p}/memos"),
                &bob,
                json!({"date": "2026-01-01T00:00:00Z", "text": "m"}),
            )
            .await,
            2,
        ),
    ];
    for (name, resp, budget) in &writes {
        assert!(resp.status.is_success(), "{name}: {:?}", resp.body);
        assert_eq!(resp.queries(), *budget, "{name}");
        assert_eq!(resp.header("x-cache"), "", "{name}: writes are not cacheable");
    }
    let member = writes[3].1.result()["id"].as_i64().unwrap();
    let comment = writes[4].1.result()["id"].as_i64().unwrap();
    let memo = writes[6].1.result()["id"].as_i64().unwrap();
    let more = [
        (
            "PATCH member",
            app.patch(&format!("{p}/members/{member}"), &ann, json!({"role": "viewer"})).await,
            2,
        ),
        ("DELETE comment", app.delete(&format!("{p}/feedback/comments/{comment}"), &ann).await, 3),
        ("DELETE memo", app.delete(&format!("{p}/memos/{memo}"), &ann).await, 2),
        ("DELETE member", app.delete(&format!("{p}/members/{member}"), &ann).await, 2),
        // Access and the delete, which returns its files' keys (so the objects go too); on
        // SQLite that delete is two statements (files first, for their keys, then project).
        ("DELETE project", app.delete(&p, &ann).await, 2),
    ];
    for (name, resp, budget) in &more {
        assert!(resp.status.is_success(), "{name}: {:?}", resp.body);
        assert_eq!(resp.queries(), *budget, "{name}");
    }
    let login = json!({"email": "bob@example.com", "password": "password-bob"});
    assert_eq!(
        app.call(axum::http::Method::POST, "/api/auth/login", None, Some(login)).await.queries(),
        1
    );
    app.finish().await;
}

/// One project with nothing, then 150 projects with 10 members and 40 comments each: the
/// statement counts of every read are the same.
#[tokio::test]
async fn the_budget_does_not_grow_with_the_data() {
    let small = TestApp::spawn().await;
    let ann = small.user("ann").await;
    let id = small.project(&ann, "Lonely").await;
    let small_counts = read_counts(&small, &ann, id).await;
    small.finish().await;

    let big = TestApp::spawn().await;
    let ann = big.user("ann").await;
    let other = big.user("other").await;
    let store = big.store();
    let mut crew = Vec::new();
    for i in 0..10 {
        let user = big.user(&format!("crew{i}")).await;
        crew.push(UserRef { id: UserId(user.id), email: user.email, nickname: format!("crew{i}") });
    }
    let ann_ref = UserRef { id: UserId(ann.id), email: ann.email.clone(), nickname: "ann".into() };
    let mut last = 0;
    for n in 0..150 {
        // Half owned by Ann, half where she is one of the ten members.
        let owner = if n % 2 == 0 { ann.id } else { other.id };
        let project = NewProject::named(ProjectName::parse(&format!("P{n}")).unwrap());
        let pid = store.create_project(UserId(owner), &project).await.unwrap().value;
        let members: Vec<&UserRef> = if owner == ann.id {
            crew.iter().collect()
        } else {
            crew.iter().take(9).chain([&ann_ref]).collect()
        };
        for (i, member) in members.iter().enumerate() {
            let role = [Role::Viewer, Role::Editor, Role::Manager][i % 3];
            store.add_member(pid, member, role, UserId(owner)).await.unwrap().expect("added");
        }
        for c in 0..40 {
            let author = members[c % members.len()].id;
            let new = NewComment {
                text: DiscussionText::parse("feedback").unwrap(),
                timecode: Some(Timecode::parse(c as f64).unwrap()),
                timecode_end: None,
                version: None,
                parent: None,
                annotation: None,
            };
            let comment = store.add_comment(pid, author, &new);
            comment.await.unwrap().expect("a member comments");
        }
        store
            .add_message(pid, members[0].id, &DiscussionText::parse("hello").unwrap())
            .await
            .unwrap()
            .expect("a member writes");
        last = pid.0;
    }
    assert_eq!(big.store().access(ProjectId(last)).await.unwrap().unwrap().members.len(), 10);
    let big_counts = read_counts(&big, &ann, last).await;
    assert_eq!(
        big_counts,
        small_counts
            .into_iter()
            .map(|(p, m, h)| (p.replace(&id.to_string(), &last.to_string()), m, h))
            .collect::<Vec<_>>()
    );
    big.finish().await;
}
