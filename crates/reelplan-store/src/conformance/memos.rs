//! Conformance: Memos.

use super::*;

/// Memos: order by date then id, deletion.
pub async fn memos(store: &dyn Store) {
    let owner = new_user(store, "memo-owner").await;
    let ann = new_user(store, "memo-ann").await;
    let id = new_project(store, &owner, "Memos").await;
    let other = new_project(store, &owner, "Other memos").await;

    let mut added = Vec::new();
    for (n, (d, author)) in [(5, &owner), (1, &ann), (5, &ann), (3, &owner)].into_iter().enumerate()
    {
        let text = format!("memo {n}: \"quoted\"\n{}", "é".repeat(n));
        let memo =
            one(store.add_memo(id, author.id, day(d), &MemoText::parse(&text).unwrap(), CAP))
                .await
                .expect("add_memo");
        let memo = memo.expect("under the cap").value;
        assert_eq!(
            (memo.user_id, memo.date, memo.text.as_str()),
            (author.id, day(d), text.as_str())
        );
        assert_recent(memo.created, "memo.created");
        added.push(memo);
    }
    let ghost = one(store.add_memo(
        ProjectId(MISSING),
        owner.id,
        day(1),
        &MemoText::parse("x").unwrap(),
        CAP,
    ))
    .await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "unknown project: {ghost:?}");
    let full =
        one(store.add_memo(id, owner.id, day(1), &MemoText::parse("one too many").unwrap(), 4))
            .await
            .unwrap();
    assert_eq!(full, None, "a project holding its cap of memos takes no more");

    let order = |memos: &[Memo]| memos.iter().map(|m| m.id).collect::<Vec<_>>();
    let expected = vec![added[1].id, added[3].id, added[0].id, added[2].id];
    let d = detail(store, id).await;
    assert_eq!(order(&d.memos), expected, "memos by date, then id");
    for memo in &d.memos {
        assert_eq!(Some(memo), added.iter().find(|m| m.id == memo.id));
    }

    assert!(
        one(store.delete_memo(other, added[0].id, owner.id)).await.unwrap().is_none(),
        "wrong project"
    );
    assert!(one(store.delete_memo(id, MemoId(MISSING), owner.id)).await.unwrap().is_none());
    assert!(one(store.delete_memo(id, added[0].id, owner.id)).await.unwrap().is_some());
    assert!(
        one(store.delete_memo(id, added[0].id, owner.id)).await.unwrap().is_none(),
        "already gone"
    );
    let d = detail(store, id).await;
    assert_eq!(order(&d.memos), vec![added[1].id, added[3].id, added[2].id]);
    assert!(detail(store, other).await.memos.is_empty());
}
