//! Conformance: Users: sign-up, login, profile, and what a profile change touches.

use super::*;

/// Signup, duplicate email, credentials, profile, nickname.
pub async fn users(store: &dyn Store) {
    let email = format!("ann.{}@example.com", unique());
    let ann = one(store.create_user(
        &Email::parse(&email).unwrap(),
        &Nickname::parse("Ann").unwrap(),
        "hash-1",
    ))
    .await
    .expect("create_user");
    assert_eq!((ann.email.as_str(), ann.nickname.as_str()), (email.as_str(), "Ann"));
    assert_recent(ann.created, "user.created");

    let again = one(store.create_user(
        &Email::parse(&email).unwrap(),
        &Nickname::parse("Other Ann").unwrap(),
        "hash-2",
    ))
    .await;
    assert!(matches!(again, Err(StoreError::Conflict { .. })), "duplicate email: {again:?}");

    let credentials =
        one(store.credentials(&Email::parse(&email).unwrap())).await.unwrap().expect("credentials");
    assert_eq!(credentials.user, ann);
    assert_eq!(credentials.password_hash, "hash-1");
    let nobody = format!("nobody.{}@example.com", unique());
    assert!(one(store.credentials(&Email::parse(&nobody).unwrap())).await.unwrap().is_none());

    assert_eq!(one(store.user(ann.id)).await.unwrap(), Some(ann.clone()));
    assert_eq!(one(store.user(UserId(MISSING))).await.unwrap(), None);

    let renamed = one(store.set_nickname(ann.id, &Nickname::parse("Annie").unwrap()))
        .await
        .unwrap()
        .expect("renamed");
    assert_eq!(renamed, User { nickname: "Annie".into(), ..ann.clone() });
    assert_eq!(one(store.user(ann.id)).await.unwrap(), Some(renamed));
    assert_eq!(
        one(store.set_nickname(UserId(MISSING), &Nickname::parse("Ghost").unwrap())).await.unwrap(),
        None
    );
}

/// What shows a user: projects owned, joined or written in; viewers of their owned projects.
pub async fn footprint(store: &dyn Store) {
    let user = new_user(store, "fp-user").await;
    let m1 = new_user(store, "fp-m1").await;
    let m2 = new_user(store, "fp-m2").await;
    let boss = new_user(store, "fp-boss").await;

    let owned = new_project(store, &user, "Owned").await;
    add_member(store, owned, &m1, Role::Viewer).await;
    add_member(store, owned, &m2, Role::Manager).await;
    let joined = new_project(store, &boss, "Joined").await;
    add_member(store, joined, &user, Role::Editor).await;
    let commented = new_project(store, &boss, "Commented then left").await;
    let left = add_member(store, commented, &user, Role::Viewer).await;
    one(store.add_comment(commented, user.id, &plain("hello", None))).await.unwrap().unwrap();
    assert!(one(store.remove_member(commented, left.id, user.id)).await.unwrap().is_some());
    let chatted = new_project(store, &boss, "Chatted then left").await;
    let left = add_member(store, chatted, &user, Role::Viewer).await;
    one(store.add_message(chatted, user.id, &DiscussionText::parse("hello").unwrap()))
        .await
        .unwrap()
        .unwrap();
    assert!(one(store.remove_member(chatted, left.id, user.id)).await.unwrap().is_some());
    let unrelated = new_project(store, &boss, "Unrelated").await;
    add_member(store, unrelated, &m1, Role::Viewer).await;

    let fp = one(store.footprint(user.id)).await.unwrap();
    assert_eq!(sorted(fp.projects), sorted(vec![owned, joined, commented, chatted]));
    assert_eq!(sorted(fp.list_viewers), sorted(vec![user.id, m1.id, m2.id]));

    let fp = one(store.footprint(boss.id)).await.unwrap();
    assert_eq!(sorted(fp.projects), sorted(vec![joined, commented, chatted, unrelated]));
    assert_eq!(sorted(fp.list_viewers), sorted(vec![boss.id, user.id, m1.id]));

    let fp = one(store.footprint(m1.id)).await.unwrap();
    assert_eq!(sorted(fp.projects), sorted(vec![owned, unrelated]));
    assert!(fp.list_viewers.is_empty());

    let fresh = new_user(store, "fp-fresh").await;
    assert_eq!(one(store.footprint(fresh.id)).await.unwrap(), crate::Footprint::default());
    assert_eq!(one(store.footprint(UserId(MISSING))).await.unwrap(), crate::Footprint::default());
}
