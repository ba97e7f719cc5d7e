//! Conformance: The feedback thread: comments and messages.

use super::*;

/// Comments and messages: order, pages, counts, recent messages, authors, deletion.
pub async fn feedback(store: &dyn Store) {
    let owner = new_user(store, "f-owner").await;
    let ann = new_user(store, "f-ann").await;
    let id = new_project(store, &owner, "Review").await;
    let other = new_project(store, &owner, "Other review").await;
    add_member(store, id, &ann, Role::Viewer).await;
    let access = one(store.access(id)).await.unwrap().unwrap();

    let empty = one(store.comments_page(id, CommentFilter::default(), page(10, None)))
        .await
        .unwrap()
        .expect("page");
    assert!(empty.items.is_empty());
    assert_eq!(normalized(empty.access), normalized(access.clone()));
    let empty = one(store.messages_page(id, page(10, None))).await.unwrap().expect("page");
    assert!(empty.items.is_empty());
    assert_eq!(
        one(store.comments_page(ProjectId(MISSING), CommentFilter::default(), page(10, None)))
            .await
            .unwrap(),
        None
    );
    assert_eq!(one(store.messages_page(ProjectId(MISSING), page(10, None))).await.unwrap(), None);

    let text = "\"quoted\" \\ back\\slash\nnew line — 日本語 🎬";
    let timecodes = [None, Some(0.0), Some(12.5), Some(3.0), None, Some(7.25), Some(600.0)];
    let mut comments: Vec<Comment> = Vec::new();
    for (n, timecode) in timecodes.into_iter().enumerate() {
        let author = if n % 2 == 0 { &owner } else { &ann };
        let body = format!("{text} #{n}");
        let c = one(store.add_comment(id, author.id, &plain(&body, timecode)))
            .await
            .expect("comment")
            .expect("the author takes part")
            .value;
        assert_eq!(
            (&c.user, c.text.as_str(), c.timecode),
            (&user_ref(author), body.as_str(), timecode)
        );
        assert_recent(c.created, "comment.created");
        comments.push(c);
    }
    let stranger = new_user(store, "f-stranger").await;
    let outsider = one(store.add_comment(id, stranger.id, &plain("x", None))).await.unwrap();
    assert_eq!(outsider, None, "only who takes part may comment");
    assert_eq!(
        one(store.add_message(id, stranger.id, &DiscussionText::parse("x").unwrap()))
            .await
            .unwrap(),
        None
    );
    let ghost = one(store.add_comment(ProjectId(MISSING), owner.id, &plain("x", None))).await;
    assert!(matches!(ghost, Ok(None)), "unknown project: {ghost:?}");
    comments.sort_by_key(|c| (c.created, c.id));

    let all = one(store.comments_page(id, CommentFilter::default(), page(100, None)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(all.items, comments, "comments oldest first");
    assert_eq!(normalized(all.access), normalized(access.clone()));
    for limit in [1, 3] {
        let mut seen: Vec<Comment> = Vec::new();
        let mut after = None;
        loop {
            let p = one(store.comments_page(id, CommentFilter::default(), page(limit, after)))
                .await
                .unwrap()
                .unwrap();
            let Some(last) = p.items.last() else { break };
            after = cursor_of(last.created, last.id.0);
            seen.extend(p.items);
        }
        assert_eq!(seen, comments, "comment pages of {limit}");
    }

    let mut messages: Vec<Message> = Vec::new();
    for n in 0..7 {
        let author = if n % 3 == 0 { &ann } else { &owner };
        let body = format!("{text} message {n}");
        let m = one(store.add_message(id, author.id, &DiscussionText::parse(&body).unwrap()))
            .await
            .expect("message")
            .expect("the author takes part")
            .value;
        assert_eq!((&m.user, m.text.as_str()), (&user_ref(author), body.as_str()));
        assert_recent(m.created, "message.created");
        messages.push(m);
    }
    let ghost =
        one(store.add_message(ProjectId(MISSING), owner.id, &DiscussionText::parse("x").unwrap()))
            .await;
    assert!(matches!(ghost, Ok(None)), "unknown project: {ghost:?}");
    messages.sort_by_key(|m| std::cmp::Reverse((m.created, m.id)));

    let all = one(store.messages_page(id, page(100, None))).await.unwrap().unwrap();
    assert_eq!(all.items, messages, "messages newest first");
    assert_eq!(normalized(all.access), normalized(access.clone()));
    for limit in [1, 3] {
        let mut seen: Vec<Message> = Vec::new();
        let mut after = None;
        loop {
            let p = one(store.messages_page(id, page(limit, after))).await.unwrap().unwrap();
            let Some(last) = p.items.last() else { break };
            after = cursor_of(last.created, last.id.0);
            seen.extend(p.items);
        }
        assert_eq!(seen, messages, "message pages of {limit}");
    }

    let d = detail(store, id).await;
    assert_eq!((d.feedback.comment_count, d.feedback.message_count), (7, 7));
    assert_eq!(d.feedback.recent_messages, messages[..5].to_vec(), "newest 5, newest first");
    let o = detail(store, other).await;
    assert_eq!((o.feedback.comment_count, o.feedback.message_count), (0, 0));

    // Authors and deletion.
    let target = &comments[1];
    assert_eq!(one(store.comment_author(id, target.id)).await.unwrap(), Some(ann.id));
    assert_eq!(one(store.comment_author(other, target.id)).await.unwrap(), None);
    assert_eq!(one(store.comment_author(id, CommentId(MISSING))).await.unwrap(), None);
    assert!(
        one(store.delete_comment(other, target.id, owner.id)).await.unwrap().is_none(),
        "wrong project"
    );
    assert!(one(store.delete_comment(id, target.id, owner.id)).await.unwrap().is_some());
    assert!(
        one(store.delete_comment(id, target.id, owner.id)).await.unwrap().is_none(),
        "already gone"
    );
    assert_eq!(one(store.comment_author(id, target.id)).await.unwrap(), None);
    let left = one(store.comments_page(id, CommentFilter::default(), page(100, None)))
        .await
        .unwrap()
        .unwrap();
    let expected: Vec<Comment> = comments.iter().filter(|c| c.id != target.id).cloned().collect();
    assert_eq!(left.items, expected);
    assert_eq!(detail(store, id).await.feedback.comment_count, 6);
}
