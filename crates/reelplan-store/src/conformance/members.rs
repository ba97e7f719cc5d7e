//! Conformance: Members and access.

use super::*;

/// Adding, changing and removing members; access, invite context and participants.
pub async fn members(store: &dyn Store) {
    let owner = new_user(store, "m-owner").await;
    let ann = new_user(store, "m-ann").await;
    let bob = new_user(store, "m-bob").await;
    let id = new_project(store, &owner, "Team").await;
    let other = new_project(store, &owner, "Other team").await;

    let m_ann = add_member(store, id, &ann, Role::Editor).await;
    assert_eq!(
        (m_ann.user_id, m_ann.email.as_str(), m_ann.nickname.as_str(), m_ann.role),
        (ann.id, ann.email.as_str(), ann.nickname.as_str(), Role::Editor)
    );
    assert_recent(m_ann.created, "member.created");
    assert_eq!(detail(store, id).await.core.member_count, 1);
    let m_bob = add_member(store, id, &bob, Role::Viewer).await;
    assert!(m_bob.id > m_ann.id);
    assert_eq!(detail(store, id).await.core.member_count, 2);

    let again = one(store.add_member(id, &user_ref(&ann), Role::Manager, owner.id)).await;
    assert!(matches!(again, Err(StoreError::Conflict { .. })), "duplicate member: {again:?}");
    let ghost =
        one(store.add_member(ProjectId(MISSING), &user_ref(&ann), Role::Viewer, owner.id)).await;
    assert!(matches!(ghost, Ok(None)), "unknown project: {ghost:?}");
    let eve = new_user(store, "m-eve").await;
    let by_editor = one(store.add_member(id, &user_ref(&eve), Role::Viewer, ann.id)).await;
    assert!(matches!(by_editor, Ok(None)), "an editor may not add: {by_editor:?}");

    let d = detail(store, id).await;
    assert_eq!(d.core.member_count, 2);
    assert_eq!(d.members, vec![m_ann.clone(), m_bob.clone()], "members ordered by id");
    assert_eq!(detail(store, other).await.core.member_count, 0);

    let expected = ProjectAccess {
        owner_id: owner.id,
        members: vec![
            MemberAccess { member_id: m_ann.id, user_id: ann.id, role: Role::Editor },
            MemberAccess { member_id: m_bob.id, user_id: bob.id, role: Role::Viewer },
        ],
    };
    let access = one(store.access(id)).await.unwrap().expect("access");
    assert_eq!(normalized(access), expected);
    assert_eq!(normalized(d.access()), expected);
    assert_eq!(one(store.access(ProjectId(MISSING))).await.unwrap(), None);

    let (access, user) = one(store.invite_context(id, &bob.email)).await.unwrap().expect("ctx");
    assert_eq!((normalized(access), user), (expected.clone(), Some(user_ref(&bob))));
    let nobody = format!("nobody.{}@example.com", unique());
    let (access, user) = one(store.invite_context(id, &nobody)).await.unwrap().expect("ctx");
    assert_eq!((normalized(access), user), (expected.clone(), None));
    assert_eq!(one(store.invite_context(ProjectId(MISSING), &bob.email)).await.unwrap(), None);

    let people = one(store.access(id)).await.unwrap().expect("access").participants();
    assert_eq!(sorted(people), sorted(vec![owner.id, ann.id, bob.id]));

    // Role changes, each checking in its own statement who may make it.
    let stranger = new_user(store, "m-stranger").await;
    let set_role = |member: MemberId, role: Role, by: UserId| async move {
        one(store.set_member_role(id, member, role, by)).await.unwrap().map(|m| m.value.role)
    };
    assert_eq!(set_role(m_bob.id, Role::Editor, stranger.id).await, None, "not a member");
    assert_eq!(set_role(m_bob.id, Role::Editor, ann.id).await, None, "an editor");
    let changed = one(store.set_member_role(id, m_ann.id, Role::Manager, owner.id)).await.unwrap();
    assert_eq!(changed.map(|r| r.value), Some(Member { role: Role::Manager, ..m_ann.clone() }));
    assert_eq!(set_role(m_bob.id, Role::Editor, ann.id).await, Some(Role::Editor), "a manager");
    assert_eq!(set_role(m_bob.id, Role::Manager, ann.id).await, None, "only the owner promotes");
    assert_eq!(set_role(m_ann.id, Role::Viewer, ann.id).await, None, "nor demotes a manager");
    assert_eq!(set_role(m_bob.id, Role::Viewer, ann.id).await, Some(Role::Viewer));
    let elsewhere = one(store.set_member_role(other, m_ann.id, Role::Viewer, owner.id)).await;
    assert_eq!(elsewhere.unwrap(), None, "another project's member");
    let missing = one(store.set_member_role(id, MemberId(MISSING), Role::Viewer, owner.id)).await;
    assert_eq!(missing.unwrap(), None);
    let ann_list = list_all(store, &ann, &ProjectFilter::default()).await;
    let row = ann_list.iter().find(|p| p.core.id == id).expect("listed");
    assert_eq!(row.my_role, Role::Manager);
    let d = detail(store, id).await;
    assert_eq!(d.members[0].role, Role::Manager);
    assert_eq!(d.core.member_count, 2);

    // Removal.
    let wrong = one(store.remove_member(other, m_bob.id, owner.id)).await.unwrap();
    assert_eq!(wrong, None, "wrong project");
    let refused = one(store.remove_member(id, m_bob.id, stranger.id)).await.unwrap();
    assert_eq!(refused, None, "neither the owner, a manager nor the member themself");
    let removed = one(store.remove_member(id, m_bob.id, owner.id)).await.unwrap();
    assert_eq!(removed.map(|r| r.value), Some(bob.id));
    let again = one(store.remove_member(id, m_bob.id, owner.id)).await.unwrap();
    assert_eq!(again, None, "already gone");
    let d = detail(store, id).await;
    assert_eq!(d.core.member_count, 1);
    assert_eq!(d.members, vec![Member { role: Role::Manager, ..m_ann.clone() }]);
    let access = one(store.access(id)).await.unwrap().unwrap();
    assert_eq!(access.role_of(bob.id), None);
    assert_eq!(access.role_of(ann.id), Some(Role::Manager));
    let people = one(store.access(id)).await.unwrap().expect("access").participants();
    assert_eq!(sorted(people), sorted(vec![owner.id, ann.id]));
    assert!(!ids(&list_all(store, &bob, &ProjectFilter::default()).await).contains(&id));

    // Back in after leaving: a new membership.
    let m_bob2 = add_member(store, id, &bob, Role::Editor).await;
    assert!(m_bob2.id > m_bob.id);
    assert_eq!(detail(store, id).await.core.member_count, 2);
}
