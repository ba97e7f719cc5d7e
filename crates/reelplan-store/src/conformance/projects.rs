//! Conformance: Projects: documents, writes, phases, the caller's list and its filters, deletion.

use super::*;

/// Create, read back, patch and the empty parts of a fresh detail.
pub async fn projects(store: &dyn Store) {
    let owner = new_user(store, "owner").await;
    let name = "\"Quoted\" 'single' \\ back\\slash — 日本語 🎬";
    let new = NewProject {
        name: ProjectName::parse(name).unwrap(),
        manager: Party::parse("Mia Manager").unwrap(),
        consumer: Party::parse("ACME\nCorp").unwrap(),
        description: Description::parse("{\"not\": \"json\"} <b>").unwrap(),
        color: None,
        phases: [PhaseDates::default(); 8],
    };
    let id = one(store.create_project(owner.id, &new)).await.expect("create_project").value;
    let d = detail(store, id).await;
    assert_eq!(d.core.id, id);
    assert_eq!(d.core.name, name);
    assert_eq!(d.core.manager, "Mia Manager");
    assert_eq!(d.core.consumer, "ACME\nCorp");
    assert_eq!(d.core.description, "{\"not\": \"json\"} <b>");
    assert_eq!(d.core.color, None);
    assert_eq!(d.core.owner, user_ref(&owner));
    assert_eq!(d.core.member_count, 0);
    assert_eq!(d.core.phases.0, [PhaseDates::default(); 8]);
    assert_eq!((d.core.earliest_start_date, d.core.latest_end_date), (None, None));
    assert_recent(d.core.created, "project.created");
    assert_eq!(d.core.updated, d.core.created);
    assert!(d.members.is_empty() && d.memos.is_empty() && d.files.is_empty());
    assert_eq!(d.feedback.video, None);
    assert_eq!((d.feedback.comment_count, d.feedback.message_count), (0, 0));
    assert!(d.feedback.recent_messages.is_empty());
    assert_eq!(d.access(), ProjectAccess { owner_id: owner.id, members: vec![] });

    let ghost = one(store.create_project(UserId(MISSING), &new)).await;
    assert!(matches!(ghost, Err(StoreError::NotFound)), "unknown owner: {ghost:?}");
    assert_eq!(one(store.project_detail(ProjectId(MISSING))).await.unwrap(), None);

    // A patch changes only what it names.
    let patch = ProjectPatch {
        name: Some(ProjectName::parse("Renamed").unwrap()),
        ..ProjectPatch::default()
    };
    assert!(one(store.update_project(id, &patch, owner.id)).await.unwrap().is_some());
    let after = detail(store, id).await;
    assert_eq!(after.core.name, "Renamed");
    assert_eq!(after.core.manager, "Mia Manager");
    assert_eq!(after.core.consumer, "ACME\nCorp");
    assert_eq!(after.core.description, d.core.description);
    assert_eq!(after.core.created, d.core.created);
    assert!(after.core.updated >= d.core.updated);

    let patch = ProjectPatch {
        manager: Some(Party::default()),
        consumer: Some(Party::parse("Client").unwrap()),
        description: Some(Description::default()),
        color: Some(Some(Color::parse("#A0B1C2").unwrap())),
        ..ProjectPatch::default()
    };
    assert!(one(store.update_project(id, &patch, owner.id)).await.unwrap().is_some());
    let after = detail(store, id).await;
    assert_eq!(after.core.name, "Renamed");
    assert_eq!((after.core.manager.as_str(), after.core.consumer.as_str()), ("", "Client"));
    assert_eq!(after.core.description, "");
    assert_eq!(after.core.color.as_deref(), Some("#A0B1C2"));

    let keep = ProjectPatch {
        name: Some(ProjectName::parse("Kept color").unwrap()),
        ..ProjectPatch::default()
    };
    assert!(one(store.update_project(id, &keep, owner.id)).await.unwrap().is_some());
    assert_eq!(detail(store, id).await.core.color.as_deref(), Some("#A0B1C2"));
    let clear = ProjectPatch { color: Some(None), ..ProjectPatch::default() };
    assert!(one(store.update_project(id, &clear, owner.id)).await.unwrap().is_some());
    let after = detail(store, id).await;
    assert_eq!((after.core.color, after.core.name.as_str()), (None, "Kept color"));

    assert!(one(store.update_project(ProjectId(MISSING), &keep, owner.id))
        .await
        .unwrap()
        .is_none());
    let stranger = new_user(store, "stranger").await;
    let refused = one(store.update_project(id, &keep, stranger.id)).await.unwrap();
    assert!(refused.is_none(), "only the owner or a manager may patch");
    let refused = one(store.set_phase(id, Phase::Filming, dates(1, 2), stranger.id)).await;
    assert!(refused.unwrap().is_none(), "only the owner, an editor or a manager may set a phase");

    // A project created with a color and phases reads them back.
    let mut phases = [PhaseDates::default(); 8];
    phases[2] = dates(1, 4);
    let colored = NewProject {
        color: Some(Color::parse("#00FF7F").unwrap()),
        phases,
        ..NewProject::named(ProjectName::parse("Colored").unwrap())
    };
    let id = one(store.create_project(owner.id, &colored)).await.unwrap().value;
    let d = detail(store, id).await;
    assert_eq!(d.core.color.as_deref(), Some("#00FF7F"));
    assert_eq!(d.core.phases.0, phases);
    assert_eq!(d.core.earliest_start_date, Some(day(1)));
    assert_eq!(d.core.latest_end_date, Some(day(4)));
}

/// Each phase's own columns, and the earliest-start / latest-end fallbacks.
pub async fn phases(store: &dyn Store) {
    let owner = new_user(store, "phases").await;

    // Every phase writes its own two columns and nothing else.
    let id = new_project(store, &owner, "One phase at a time").await;
    for phase in Phase::ALL {
        let i = phase.index() as i64;
        let set = dates(10 * i, 10 * i + 3);
        assert!(
            one(store.set_phase(id, phase, set, owner.id)).await.unwrap().is_some(),
            "{phase:?}"
        );
        let d = detail(store, id).await;
        let mut expected = [PhaseDates::default(); 8];
        expected[phase.index()] = set;
        assert_eq!(d.core.phases.0, expected, "{phase:?}");
        assert_eq!(d.core.earliest_start_date, set.start_date, "{phase:?}");
        assert_eq!(d.core.latest_end_date, set.end_date, "{phase:?}");
        let cleared =
            one(store.set_phase(id, phase, PhaseDates::default(), owner.id)).await.unwrap();
        assert!(cleared.is_some(), "{phase:?}");
    }
    let d = detail(store, id).await;
    assert_eq!(d.core.phases.0, [PhaseDates::default(); 8]);
    assert_eq!((d.core.earliest_start_date, d.core.latest_end_date), (None, None));

    // The fallbacks follow phase order, not the smallest or largest date.
    let mut phases = [PhaseDates::default(); 8];
    phases[Phase::StoryBoard.index()] = dates(10, 12);
    phases[Phase::Filming.index()] = dates(1, 3);
    phases[Phase::VideoEdit.index()] = dates(15, 20);
    phases[Phase::PostWork.index()] = dates(5, 15);
    let project =
        NewProject { phases, ..NewProject::named(ProjectName::parse("Fallbacks").unwrap()) };
    let id = one(store.create_project(owner.id, &project)).await.unwrap().value;
    let d = detail(store, id).await;
    assert_eq!(d.core.phases.0, phases);
    assert_eq!(d.core.earliest_start_date, Some(day(10)), "first start in phase order");
    assert_eq!(d.core.latest_end_date, Some(day(15)), "first end in reverse phase order");

    let before = d.core.updated;
    assert!(one(store.set_phase(id, Phase::BasicPlan, dates(30, 31), owner.id))
        .await
        .unwrap()
        .is_some());
    let d = detail(store, id).await;
    assert_eq!(d.core.earliest_start_date, Some(day(30)));
    assert_eq!(d.core.latest_end_date, Some(day(15)));
    assert!(d.core.updated >= before);

    assert!(one(store.set_phase(id, Phase::VideoDelivery, dates(0, 2), owner.id))
        .await
        .unwrap()
        .is_some());
    assert_eq!(detail(store, id).await.core.latest_end_date, Some(day(2)));
    let cleared = PhaseDates::default();
    assert!(one(store.set_phase(id, Phase::VideoDelivery, cleared, owner.id))
        .await
        .unwrap()
        .is_some());
    assert!(one(store.set_phase(id, Phase::BasicPlan, cleared, owner.id)).await.unwrap().is_some());
    let d = detail(store, id).await;
    assert_eq!(d.core.phases.0, phases);
    assert_eq!(d.core.earliest_start_date, Some(day(10)));
    assert_eq!(d.core.latest_end_date, Some(day(15)));

    let missing =
        one(store.set_phase(ProjectId(MISSING), Phase::Filming, dates(1, 2), owner.id)).await;
    assert!(missing.unwrap().is_none());
}

/// Which projects a viewer sees, with which role, in which order, page by page.
pub async fn project_list(store: &dyn Store) {
    let viewer = new_user(store, "viewer").await;
    let other = new_user(store, "other").await;
    let stranger = new_user(store, "stranger").await;

    let mut expected = Vec::new();
    for n in 0..3 {
        expected.push((new_project(store, &viewer, &format!("Own {n}")).await, Role::Owner));
    }
    let shared = new_project(store, &other, "Shared as editor").await;
    add_member(store, shared, &viewer, Role::Editor).await;
    expected.push((shared, Role::Editor));
    let hidden = new_project(store, &other, "Not shared").await;
    add_member(store, hidden, &stranger, Role::Viewer).await;
    for n in 0..3 {
        expected.push((new_project(store, &viewer, &format!("Own later {n}")).await, Role::Owner));
    }
    let viewed = new_project(store, &other, "Shared as viewer").await;
    add_member(store, viewed, &viewer, Role::Viewer).await;
    add_member(store, viewed, &stranger, Role::Manager).await;
    expected.push((viewed, Role::Viewer));

    let all = list_all(store, &viewer, &ProjectFilter::default()).await;
    assert_eq!(sorted(ids(&all)), sorted(expected.iter().map(|(id, _)| *id).collect()));
    assert!(!ids(&all).contains(&hidden));
    for summary in &all {
        let role = expected.iter().find(|(id, _)| *id == summary.core.id).map(|(_, r)| *r);
        assert_eq!(Some(summary.my_role), role, "my_role of {}", summary.core.id);
        // The summary carries the same fields as the detail.
        assert_eq!(summary.core, detail(store, summary.core.id).await.core);
    }
    for pair in all.windows(2) {
        let (a, b) = (&pair[0].core, &pair[1].core);
        assert!((a.created, a.id) > (b.created, b.id), "newest first, then id descending");
    }

    // Keyset pages: no gaps, no duplicates, an empty page after the last.
    for limit in [1, 2, 3] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let rows =
                one(store.list_projects(viewer.id, &ProjectFilter::default(), page(limit, after)))
                    .await
                    .unwrap();
            assert!(rows.len() <= limit as usize);
            let Some(last) = rows.last() else { break };
            after = cursor_of(last.core.created, last.core.id.0);
            seen.extend(rows);
        }
        assert_eq!(ids(&seen), ids(&all), "pages of {limit}");
    }

    // A cursor taken from any row resumes right after it.
    let third = &all[2].core;
    let rest = one(store.list_projects(
        viewer.id,
        &ProjectFilter::default(),
        page(100, cursor_of(third.created, third.id.0)),
    ))
    .await
    .unwrap();
    assert_eq!(ids(&rest), ids(&all[3..]));

    let stranger_sees = list_all(store, &stranger, &ProjectFilter::default()).await;
    assert_eq!(sorted(ids(&stranger_sees)), sorted(vec![hidden, viewed]));
    let manager_row = stranger_sees.iter().find(|p| p.core.id == viewed).unwrap();
    assert_eq!(manager_row.my_role, Role::Manager);
    assert_eq!(manager_row.core.member_count, 2);

    let nobody = new_user(store, "nobody").await;
    assert!(list_all(store, &nobody, &ProjectFilter::default()).await.is_empty());
}

/// `q` (literal, case-insensitive substring) and the active window filters.
pub async fn list_filters(store: &dyn Store) {
    let viewer = new_user(store, "filters").await;
    let percent = new_project(store, &viewer, "Alpha 100% Cut").await;
    let underscore = new_project(store, &viewer, "alpha_beta").await;
    let upper = new_project(store, &viewer, "ALPHAbet soup").await;
    let gamma = new_project(store, &viewer, "Gamma").await;

    let q = |text: &str| ProjectFilter { q: Some(text.into()), ..ProjectFilter::default() };
    let found = |list: Vec<ProjectSummary>| sorted(ids(&list));
    assert_eq!(
        found(list_all(store, &viewer, &q("alpha")).await),
        sorted(vec![percent, underscore, upper])
    );
    assert_eq!(found(list_all(store, &viewer, &q("ALPHA_")).await), vec![underscore]);
    assert_eq!(found(list_all(store, &viewer, &q("%")).await), vec![percent]);
    assert_eq!(found(list_all(store, &viewer, &q("_")).await), vec![underscore]);
    assert!(found(list_all(store, &viewer, &q("100_")).await).is_empty(), "_ is literal");
    assert!(found(list_all(store, &viewer, &q("a%c")).await).is_empty(), "% is literal");
    assert_eq!(found(list_all(store, &viewer, &q("amm")).await), vec![gamma]);
    assert!(found(list_all(store, &viewer, &q("zeta")).await).is_empty());

    // Windows: A spans days 1-10, C spans 5-6, B has no dates at all.
    let mut a_phases = [PhaseDates::default(); 8];
    a_phases[0] = dates(1, 2);
    a_phases[7] = dates(9, 10);
    let mut c_phases = [PhaseDates::default(); 8];
    c_phases[2] = dates(5, 6);
    let a = NewProject {
        phases: a_phases,
        ..NewProject::named(ProjectName::parse("Window A").unwrap())
    };
    let c = NewProject {
        phases: c_phases,
        ..NewProject::named(ProjectName::parse("Window C").unwrap())
    };
    let a = one(store.create_project(viewer.id, &a)).await.unwrap().value;
    let b = new_project(store, &viewer, "Window B").await;
    let c = one(store.create_project(viewer.id, &c)).await.unwrap().value;

    let window = |from: Option<i64>, to: Option<i64>| ProjectFilter {
        q: Some("window".into()),
        active_from: from.map(day),
        active_to: to.map(day),
    };
    let all = sorted(vec![a, b, c]);
    assert_eq!(found(list_all(store, &viewer, &window(None, None)).await), all);
    assert_eq!(found(list_all(store, &viewer, &window(Some(7), None)).await), vec![a]);
    assert_eq!(found(list_all(store, &viewer, &window(Some(6), None)).await), sorted(vec![a, c]));
    assert_eq!(found(list_all(store, &viewer, &window(None, Some(4))).await), vec![a]);
    assert_eq!(found(list_all(store, &viewer, &window(None, Some(5))).await), sorted(vec![a, c]));
    assert_eq!(
        found(list_all(store, &viewer, &window(Some(6), Some(6))).await),
        sorted(vec![a, c])
    );
    assert!(found(list_all(store, &viewer, &window(Some(11), None)).await).is_empty());
    assert!(found(list_all(store, &viewer, &window(None, Some(0))).await).is_empty());

    // The filters combine with paging.
    let filter = window(Some(0), None);
    let first = one(store.list_projects(viewer.id, &filter, page(1, None))).await.unwrap();
    assert_eq!(ids(&first), vec![c]);
    let after = cursor_of(first[0].core.created, c.0);
    let second = one(store.list_projects(viewer.id, &filter, page(5, after))).await.unwrap();
    assert_eq!(ids(&second), vec![a]);
}

/// Deleting a project takes its members, feedback and memos along, and nothing else.
pub async fn cascade(store: &dyn Store) {
    let owner = new_user(store, "c-owner").await;
    let ann = new_user(store, "c-ann").await;
    let id = new_project(store, &owner, "Doomed").await;
    let kept = new_project(store, &owner, "Kept").await;
    let member = add_member(store, id, &ann, Role::Editor).await;
    let kept_member = add_member(store, kept, &ann, Role::Viewer).await;
    let comment =
        one(store.add_comment(id, ann.id, &plain("bye", Some(1.0)))).await.unwrap().unwrap().value;
    one(store.add_message(id, ann.id, &DiscussionText::parse("bye").unwrap()))
        .await
        .unwrap()
        .unwrap();
    let memo = one(store.add_memo(id, owner.id, day(1), &MemoText::parse("bye").unwrap(), CAP))
        .await
        .unwrap()
        .unwrap()
        .value;
    one(store.add_comment(kept, ann.id, &plain("stay", None))).await.unwrap().unwrap();
    one(store.add_message(kept, ann.id, &DiscussionText::parse("stay").unwrap()))
        .await
        .unwrap()
        .unwrap();
    one(store.add_memo(kept, owner.id, day(2), &MemoText::parse("stay").unwrap(), CAP))
        .await
        .unwrap()
        .unwrap();

    assert_eq!(
        delete_project(store, id, owner.id).await.map(|r| r.value),
        Some(vec![]),
        "no files"
    );
    assert_eq!(delete_project(store, id, owner.id).await, None, "already gone");
    assert_eq!(one(store.project_detail(id)).await.unwrap(), None);
    assert_eq!(one(store.access(id)).await.unwrap(), None);
    assert_eq!(one(store.invite_context(id, &ann.email)).await.unwrap(), None);
    assert_eq!(
        one(store.comments_page(id, CommentFilter::default(), page(10, None))).await.unwrap(),
        None
    );
    assert_eq!(one(store.messages_page(id, page(10, None))).await.unwrap(), None);
    assert_eq!(one(store.comment_author(id, comment.id)).await.unwrap(), None);
    assert!(one(store.delete_comment(id, comment.id, owner.id)).await.unwrap().is_none());
    assert!(one(store.delete_memo(id, memo.id, owner.id)).await.unwrap().is_none());
    assert_eq!(
        one(store.set_member_role(id, member.id, Role::Viewer, owner.id)).await.unwrap(),
        None
    );
    assert_eq!(one(store.remove_member(id, member.id, owner.id)).await.unwrap(), None);
    assert!(one(store.update_project(id, &ProjectPatch::default(), owner.id))
        .await
        .unwrap()
        .is_none());
    assert!(one(store.set_phase(id, Phase::Filming, dates(1, 2), owner.id))
        .await
        .unwrap()
        .is_none());
    let late = one(store.add_comment(id, ann.id, &plain("too late", None))).await;
    assert!(matches!(late, Ok(None)), "{late:?}");

    assert_eq!(ids(&list_all(store, &ann, &ProjectFilter::default()).await), vec![kept]);
    assert_eq!(ids(&list_all(store, &owner, &ProjectFilter::default()).await), vec![kept]);
    let fp = one(store.footprint(ann.id)).await.unwrap();
    assert_eq!(fp.projects, vec![kept]);

    let k = detail(store, kept).await;
    assert_eq!(k.members, vec![kept_member]);
    assert_eq!(k.core.member_count, 1);
    assert_eq!((k.feedback.comment_count, k.feedback.message_count, k.memos.len()), (1, 1, 1));
    assert_eq!(one(store.user(ann.id)).await.unwrap(), Some(ann));
}
