use axum::http::{Method, StatusCode};
use reelplan_domain::Email;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn signup_login_and_me() {
    let app = TestApp::spawn().await;
    let body =
        json!({"email": " Ann@Example.COM ", "password": "correct horse", "nickname": "  Ann "});
    let resp = app.call(Method::POST, "/api/auth/signup", None, Some(body)).await;
    assert_eq!(resp.status, StatusCode::CREATED);
    let user = &resp.result()["user"];
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["nickname"], "Ann");
    assert!(user["id"].is_i64() && user["created"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        user.as_object().unwrap().len(),
        4,
        "user is exactly {{id, email, nickname, created}}"
    );

    let again = json!({"email": "ANN@example.com", "password": "whatever1", "nickname": "x"});
    app.call(Method::POST, "/api/auth/signup", None, Some(again))
        .await
        .assert_error(409, "conflict");

    let login = json!({"email": "ann@EXAMPLE.com", "password": "correct horse"});
    let resp = app.call(Method::POST, "/api/auth/login", None, Some(login)).await;
    assert_eq!(resp.status, StatusCode::OK);
    let token = resp.result()["token"].as_str().unwrap().to_owned();
    assert_eq!(resp.result()["user"], *user);

    let me = app.call(Method::GET, "/api/me", Some(&token), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.result(), user);

    let creds =
        app.store().credentials(&Email::parse("ann@example.com").unwrap()).await.unwrap().unwrap();
    assert!(creds.password_hash.starts_with("$argon2id$"), "stored only as an argon2id hash");
    app.finish().await;
}

#[tokio::test]
async fn wrong_credentials_are_401() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let wrong = json!({"email": ann.email, "password": "not-the-password"});
    app.call(Method::POST, "/api/auth/login", None, Some(wrong))
        .await
        .assert_error(401, "unauthenticated");
    let unknown = json!({"email": "nobody@example.com", "password": "password-ann"});
    app.call(Method::POST, "/api/auth/login", None, Some(unknown))
        .await
        .assert_error(401, "unauthenticated");
    app.finish().await;
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    app.call(Method::GET, "/api/me", None, None).await.assert_error(401, "unauthenticated");
    app.call(Method::GET, "/api/me", Some("not.a.jwt"), None)
        .await
        .assert_error(401, "unauthenticated");
    let mut forged = ann.token.clone();
    forged.push('x');
    app.call(Method::GET, "/api/me", Some(&forged), None)
        .await
        .assert_error(401, "unauthenticated");

    // Signed with another secret.
    let other = TestApp::spawn_with(|c| {
        c.auth.jwt_secret =
            Some(reelplan_server::config::Secret("another-secret-another-secret-another".into()))
    })
    .await;
    let stranger = other.user("stranger").await;
    app.call(Method::GET, "/api/me", Some(&stranger.token), None)
        .await
        .assert_error(401, "unauthenticated");
    other.finish().await;

    // Expired.
    let short = TestApp::spawn_with(|c| c.auth.token_ttl = std::time::Duration::from_secs(1)).await;
    let brief = short.user("brief").await;
    assert_eq!(short.get("/api/me", &brief).await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    short.get("/api/me", &brief).await.assert_error(401, "unauthenticated");
    short.finish().await;
    app.finish().await;
}

#[tokio::test]
async fn patch_me_changes_the_nickname_everywhere() {
    let app = TestApp::spawn().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let project = app.project(&ann, "Launch film").await;
    app.add_member(&ann, project, &bob, "viewer").await;
    let comments = format!("/api/projects/{project}/feedback/comments");
    app.post(&comments, &ann, json!({"text": "first cut"})).await;
    // Warm every cache that shows Ann's nickname.
    for _ in 0..2 {
        app.get("/api/projects", &bob).await;
        app.get(&format!("/api/projects/{project}"), &bob).await;
        app.get(&comments, &bob).await;
    }

    let resp = app.patch("/api/me", &ann, json!({"nickname": " Annie "})).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.result()["nickname"], "Annie");
    assert_eq!(app.get("/api/me", &ann).await.result()["nickname"], "Annie");
    assert_eq!(app.get("/api/projects", &bob).await.result()[0]["owner"]["nickname"], "Annie");
    assert_eq!(
        app.get(&format!("/api/projects/{project}"), &bob).await.result()["owner"]["nickname"],
        "Annie"
    );
    assert_eq!(app.get(&comments, &bob).await.result()[0]["user"]["nickname"], "Annie");

    app.patch("/api/me", &ann, json!({"nickname": "  "})).await.assert_error(422, "validation");
    app.patch("/api/me", &ann, json!({"email": "x@y.z"})).await.assert_error(400, "bad_request");
    app.finish().await;
}
