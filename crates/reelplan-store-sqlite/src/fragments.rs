//! SQL fragments shared by several statements, as macros expanding to string literals so
//! that every statement stays one `&'static str` built with `concat!`.
//!
//! SQLite keeps the JSON subtype of `json_object(...)` only within one expression: the result
//! of a subquery arrives as plain text, so every nested subquery document is wrapped in
//! `json(...)`, or it would be embedded as a string.

/// The [`ProjectCore`](reelplan_store::ProjectCore) fields as `json_object` arguments, for a
/// project aliased `p` joined to its owner aliased `o`. Phases are the flat array of 16 times.
macro_rules! project_core_fields {
    () => {
        "'id', p.id, 'name', p.name, 'manager', p.manager, 'consumer', p.consumer,
         'description', p.description, 'color', p.color,
         'owner', json_object('id', o.id, 'email', o.email, 'nickname', o.nickname),
         'member_count', p.member_count,
         'phases', json_array(
             p.basic_plan_start, p.basic_plan_end, p.story_board_start, p.story_board_end,
             p.filming_start, p.filming_end, p.video_edit_start, p.video_edit_end,
             p.post_work_start, p.post_work_end, p.video_preview_start, p.video_preview_end,
             p.confirmation_start, p.confirmation_end,
             p.video_delivery_start, p.video_delivery_end),
         'earliest_start_date', p.earliest_start_date, 'latest_end_date', p.latest_end_date,
         'created', p.created, 'updated', p.updated,
         'review', coalesce(json((
             SELECT json_object('version', cv.number, 'statuses', json((
                        SELECT json_group_array(cr.status) FROM reviews cr
                        WHERE cr.version_id = cv.id)))
             FROM versions cv WHERE cv.project_id = p.id ORDER BY cv.number DESC LIMIT 1)),
             json_object('version', NULL))"
    };
}

/// The [`ProjectAccess`](reelplan_store::ProjectAccess) document of the project aliased `p`:
/// the owner and every member ordered by membership id.
macro_rules! access_doc {
    () => {
        "json_object('owner_id', p.owner_id, 'members', json((
             SELECT json_group_array(
                        json_object('member_id', am.id, 'user_id', am.user_id, 'role', am.role)
                        ORDER BY am.id)
             FROM members am WHERE am.project_id = p.id)))"
    };
}

/// A [`FileMeta`](reelplan_store::FileMeta) document of the file row aliased `f`.
macro_rules! file_doc {
    () => {
        "json_object('id', f.id, 'name', f.name, 'content_type', f.content_type, 'size', f.size,
                     'project_id', f.project_id, 'created', f.created)"
    };
}

/// A [`UserRef`](reelplan_store::UserRef) document of the user row aliased `u` (or `$u`).
macro_rules! user_ref {
    () => {
        user_ref!("u")
    };
    ($u:literal) => {
        concat!(
            "json_object('id', ",
            $u,
            ".id, 'email', ",
            $u,
            ".email, 'nickname', ",
            $u,
            ".nickname)"
        )
    };
}

/// A [`Comment`](reelplan_store::Comment) document of the comments row aliased (or named) `$c`,
/// its author and resolver looked up by subquery.
macro_rules! comment_doc {
    ($c:literal) => {
        comment_fields!(
            $c,
            concat!("json((SELECT ", user_ref!(), " FROM users u WHERE u.id = ", $c, ".user_id))"),
            concat!(
                "json((SELECT ",
                user_ref!(),
                " FROM users u WHERE u.id = ",
                $c,
                ".resolved_by))"
            )
        )
    };
}

/// A [`Comment`](reelplan_store::Comment) document of the comments row aliased `c`, joined to
/// its author as `u` and (left) to its resolver as `rb`: no subquery per comment, and no
/// nested document serialised and parsed again.
macro_rules! joined_comment_doc {
    () => {
        comment_fields!(
            "c",
            user_ref!(),
            concat!("CASE WHEN rb.id IS NULL THEN NULL ELSE ", user_ref!("rb"), " END")
        )
    };
}

/// A [`Comment`](reelplan_store::Comment) document of the comments row `$c`, with `$user` and
/// `$resolved_by` the SQL expressions of its author's and resolver's documents.
macro_rules! comment_fields {
    ($c:literal, $user:expr, $resolved_by:expr) => {
        concat!(
            "json_object('id', ",
            $c,
            ".id,
        'user', ",
            $user,
            ",
        'text', ",
            $c,
            ".text, 'timecode', ",
            $c,
            ".timecode,
        'timecode_end', ",
            $c,
            ".timecode_end, 'version_id', ",
            $c,
            ".version_id,
        'parent_id', ",
            $c,
            ".parent_id, 'annotation', json(",
            $c,
            ".annotation),
        'resolved', json(CASE WHEN ",
            $c,
            ".resolved THEN 'true' ELSE 'false' END),
        'resolved_by', ",
            $resolved_by,
            ",
        'resolved_at', ",
            $c,
            ".resolved_at, 'edited', ",
            $c,
            ".edited, 'created', ",
            $c,
            ".created)"
        )
    };
}

/// A [`Version`](reelplan_store::Version) document of the versions row aliased (or named)
/// `$v`, with its reviews' statuses left for the model to fold into its approval.
macro_rules! version_doc {
    ($v:literal) => {
        concat!(
            "json_object('id', ",
            $v,
            ".id, 'number', ",
            $v,
            ".number, 'label', ",
            $v,
            ".label,
        'fps', ",
            $v,
            ".fps, 'duration', ",
            $v,
            ".duration,
        'file', json((SELECT ",
            file_doc!(),
            " FROM files f WHERE f.id = ",
            $v,
            ".file_id)),
        'created_by', json((SELECT ",
            user_ref!(),
            " FROM users u WHERE u.id = ",
            $v,
            ".created_by)),
        'created', ",
            $v,
            ".created,
        'comment_count', (SELECT count(*) FROM comments vc WHERE vc.version_id = ",
            $v,
            ".id),
        'reviews', json((
            SELECT json_group_array(json(doc) ORDER BY updated DESC, id DESC) FROM (
                SELECT json_object('user', ",
            user_ref!(),
            ", 'status', r.status, 'note', r.note, 'updated', r.updated) AS doc,
                       r.updated, r.id
                FROM reviews r JOIN users u ON u.id = r.user_id
                WHERE r.version_id = ",
            $v,
            ".id))))"
        )
    };
}

/// The [`FeedbackSummary`](reelplan_store::FeedbackSummary) document of the project aliased `p`.
macro_rules! feedback_doc {
    () => {
        concat!(
            "json_object(
        'video', json((
            SELECT ",
            file_doc!(),
            " FROM versions v JOIN files f ON f.id = v.file_id WHERE v.project_id = p.id
            ORDER BY v.number DESC LIMIT 1)),
        'current_version', json((
            SELECT ",
            version_doc!("v"),
            " FROM versions v WHERE v.project_id = p.id ORDER BY v.number DESC LIMIT 1)),
        'comment_count', (SELECT count(*) FROM comments c WHERE c.project_id = p.id),
        'message_count', (SELECT count(*) FROM messages c WHERE c.project_id = p.id),
        'recent_messages', json((
            SELECT json_group_array(json(doc) ORDER BY created DESC, id DESC) FROM (
                SELECT json_object('id', ms.id, 'user', ",
            user_ref!(),
            ", 'text', ms.text, 'created', ms.created) AS doc, ms.created, ms.id
                FROM messages ms JOIN users u ON u.id = ms.user_id
                WHERE ms.project_id = p.id
                ORDER BY ms.created DESC, ms.id DESC
                LIMIT 5))))"
        )
    };
}

/// The condition that user `$user` is the owner of the `projects` row being changed, or one of
/// its members with a role in `$roles` (a SQL list of role names).
macro_rules! changed_by {
    ($user:literal, $roles:literal) => {
        concat!(
            "(projects.owner_id = ",
            $user,
            " OR EXISTS (SELECT 1 FROM members m WHERE m.project_id = projects.id AND m.user_id = ",
            $user,
            " AND m.role IN (",
            $roles,
            ")))"
        )
    };
}

/// The condition that user ?2 takes part in project ?1 (owner or member).
macro_rules! takes_part {
    () => {
        "(EXISTS (SELECT 1 FROM projects p WHERE p.id = ?1 AND p.owner_id = ?2)
          OR EXISTS (SELECT 1 FROM members m WHERE m.project_id = ?1 AND m.user_id = ?2))"
    };
}

/// A time of the store (integer microseconds, `$t` a SQL expression) as RFC 3339 text in UTC
/// with microseconds, as [`Event`](reelplan_store::Event) reads its `created`.
macro_rules! rfc3339 {
    ($t:expr) => {
        concat!(
            "(strftime('%Y-%m-%dT%H:%M:%S', ",
            $t,
            " / 1000000, 'unixepoch') || printf('.%06dZ', ",
            $t,
            " % 1000000))"
        )
    };
}

/// An [`Event`](reelplan_store::Event) document of the events row aliased `$e`.
macro_rules! event_doc {
    ($e:literal) => {
        concat!(
            "json_object('id', ",
            $e,
            ".id, 'type', ",
            $e,
            ".type, 'project_id', ",
            $e,
            ".project_id,
        'object_id', ",
            $e,
            ".object_id, 'actor_id', ",
            $e,
            ".actor_id,
        'created', ",
            rfc3339!(concat!($e, ".created")),
            ",
        'subject_id', ",
            $e,
            ".subject_id)"
        )
    };
}

/// The [`Event`](reelplan_store::Event) document of the event a write's trigger (migration 0011)
/// is about to record, for its `RETURNING`: its type, project, object, actor, subject and time
/// as the SQL expressions the trigger inserts, in that order, and the id the insert will take,
/// the next of the events table's AUTOINCREMENT sequence (`RETURNING` runs before AFTER
/// triggers, and SQLite runs one write at a time, so nobody takes that id in between).
macro_rules! recorded_event {
    ($type:literal, $project:literal, $object:literal, $actor:literal, $subject:literal,
     $created:literal) => {
        concat!(
            "json_object(
        'id', coalesce((SELECT s.seq FROM sqlite_sequence s WHERE s.name = 'events'), 0) + 1,
        'type', ",
            $type,
            ", 'project_id', ",
            $project,
            ", 'object_id', ",
            $object,
            ", 'actor_id', ",
            $actor,
            ",
        'created', ",
            rfc3339!($created),
            ", 'subject_id', ",
            $subject,
            ")"
        )
    };
}

/// The event of deleting the `files` row being changed, as trigger `files_deleted_event` records
/// it: `file.deleted`, or `version.deleted` naming the version of a video.
macro_rules! file_deleted_event {
    () => {
        recorded_event!(
            "CASE kind WHEN 'video' THEN 'version.deleted' ELSE 'file.deleted' END",
            "project_id",
            "CASE kind WHEN 'video' THEN (SELECT v.id FROM versions v WHERE v.file_id = files.id)
                       ELSE id END",
            "deleted_by",
            "NULL",
            "changed_at"
        )
    };
}
