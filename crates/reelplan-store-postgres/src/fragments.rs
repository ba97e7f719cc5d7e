//! SQL fragments shared by several statements, as macros expanding to string literals so
//! that every statement stays one `&'static str` built with `concat!`.

/// `{id, email, nickname}` of the user row aliased `$u`.
macro_rules! user_ref {
    ($u:literal) => {
        concat!(
            "json_build_object('id', ",
            $u,
            ".id, 'email', ",
            $u,
            ".email, 'nickname', ",
            $u,
            ".nickname)"
        )
    };
}

/// The key/value pairs of a project's core document: project aliased `p`, owner aliased `u`.
macro_rules! project_core_fields {
    () => {
        concat!(
            "'id', p.id, 'name', p.name, 'manager', p.manager, 'consumer', p.consumer,
            'description', p.description, 'color', p.color, 'owner', ",
            user_ref!("u"),
            ", 'member_count', p.member_count,
            'phases', json_build_array(
                rp_us(p.basic_plan_start), rp_us(p.basic_plan_end),
                rp_us(p.story_board_start), rp_us(p.story_board_end),
                rp_us(p.filming_start), rp_us(p.filming_end),
                rp_us(p.video_edit_start), rp_us(p.video_edit_end),
                rp_us(p.post_work_start), rp_us(p.post_work_end),
                rp_us(p.video_preview_start), rp_us(p.video_preview_end),
                rp_us(p.confirmation_start), rp_us(p.confirmation_end),
                rp_us(p.video_delivery_start), rp_us(p.video_delivery_end)),
            'earliest_start_date', rp_us(p.earliest_start_date),
            'latest_end_date', rp_us(p.latest_end_date),
            'created', rp_us(p.created), 'updated', rp_us(p.updated),
            'review', COALESCE((
                SELECT json_build_object('version', cv.number, 'statuses', (
                           SELECT json_agg(cr.status) FROM reviews cr WHERE cr.version_id = cv.id))
                FROM versions cv WHERE cv.project_id = p.id ORDER BY cv.number DESC LIMIT 1),
                json_build_object('version', NULL))"
        )
    };
}

/// The access document (`ProjectAccess`) of the project row aliased `p`.
macro_rules! access_doc {
    () => {
        "json_build_object('owner_id', p.owner_id, 'members', COALESCE((
            SELECT json_agg(json_build_object(
                       'member_id', m.id, 'user_id', m.user_id, 'role', m.role) ORDER BY m.id)
            FROM members m WHERE m.project_id = p.id), '[]'::json))"
    };
}

/// `{id, user, text, created}` (plus `extra`) of the thread row aliased `$t`, author `$a`.
macro_rules! thread_item {
    ($t:literal, $a:literal, $extra:literal) => {
        concat!(
            "json_build_object('id', ",
            $t,
            ".id, 'user', ",
            user_ref!($a),
            ", 'text', ",
            $t,
            ".text, ",
            $extra,
            "'created', rp_us(",
            $t,
            ".created))"
        )
    };
}

/// `{id, user_id, date, text, created}` of the memo row aliased `$m`.
macro_rules! memo_doc {
    ($m:literal) => {
        concat!(
            "json_build_object('id', ",
            $m,
            ".id, 'user_id', ",
            $m,
            ".user_id, 'date', rp_us(",
            $m,
            ".date), 'text', ",
            $m,
            ".text, 'created', rp_us(",
            $m,
            ".created))"
        )
    };
}

/// `file` of the files row aliased `$f`.
macro_rules! file_doc {
    ($f:literal) => {
        concat!(
            "json_build_object('id', ",
            $f,
            ".id, 'name', ",
            $f,
            ".name, 'content_type', ",
            $f,
            ".content_type, 'size', ",
            $f,
            ".size, 'project_id', ",
            $f,
            ".project_id, 'created', rp_us(",
            $f,
            ".created))"
        )
    };
}

/// A `Comment` document of the comments row aliased `$c`.
macro_rules! comment_doc {
    ($c:literal) => {
        concat!(
            "json_build_object('id', ",
            $c,
            ".id,
        'user', (SELECT ",
            user_ref!("cu"),
            " FROM users cu WHERE cu.id = ",
            $c,
            ".user_id),
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
            ".parent_id, 'annotation', ",
            $c,
            ".annotation::json,
        'resolved', ",
            $c,
            ".resolved,
        'resolved_by', (SELECT ",
            user_ref!("cr"),
            " FROM users cr WHERE cr.id = ",
            $c,
            ".resolved_by),
        'resolved_at', rp_us(",
            $c,
            ".resolved_at), 'edited', rp_us(",
            $c,
            ".edited),
        'created', rp_us(",
            $c,
            ".created))"
        )
    };
}

/// A `Version` document of the versions row aliased `$v`, with its reviews' statuses left for
/// the model to fold into its approval.
macro_rules! version_doc {
    ($v:literal) => {
        concat!(
            "json_build_object('id', ",
            $v,
            ".id, 'number', ",
            $v,
            ".number,
        'label', ",
            $v,
            ".label, 'fps', ",
            $v,
            ".fps, 'duration', ",
            $v,
            ".duration,
        'file', (SELECT ",
            file_doc!("vf"),
            " FROM files vf WHERE vf.id = ",
            $v,
            ".file_id),
        'created_by', (SELECT ",
            user_ref!("vu"),
            " FROM users vu WHERE vu.id = ",
            $v,
            ".created_by),
        'created', rp_us(",
            $v,
            ".created),
        'comment_count', (SELECT count(*) FROM comments vc WHERE vc.version_id = ",
            $v,
            ".id),
        'reviews', COALESCE((
            SELECT json_agg(json_build_object('user', ",
            user_ref!("ru"),
            ", 'status', r.status, 'note', r.note, 'updated', rp_us(r.updated))
                            ORDER BY r.updated DESC, r.id DESC)
            FROM reviews r JOIN users ru ON ru.id = r.user_id
            WHERE r.version_id = ",
            $v,
            ".id), '[]'::json))"
        )
    };
}

/// `feedback_summary` of the project row aliased `p`.
macro_rules! feedback_doc {
    () => {
        concat!(
            "json_build_object(
        'video', (SELECT ",
            file_doc!("f"),
            " FROM versions v JOIN files f ON f.id = v.file_id WHERE v.project_id = p.id
                  ORDER BY v.number DESC LIMIT 1),
        'current_version', (SELECT ",
            version_doc!("v"),
            " FROM versions v WHERE v.project_id = p.id ORDER BY v.number DESC LIMIT 1),
        'comment_count', (SELECT count(*) FROM comments c WHERE c.project_id = p.id),
        'message_count', (SELECT count(*) FROM messages ms WHERE ms.project_id = p.id),
        'recent_messages', COALESCE((
            SELECT json_agg(r.doc ORDER BY r.created DESC, r.id DESC)
            FROM (SELECT ms.created, ms.id, ",
            thread_item!("ms", "mu", ""),
            " AS doc
                  FROM messages ms JOIN users mu ON mu.id = ms.user_id
                  WHERE ms.project_id = p.id
                  ORDER BY ms.created DESC, ms.id DESC LIMIT 5) r), '[]'::json))"
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
            "::bigint OR EXISTS (SELECT 1 FROM members m WHERE m.project_id = projects.id
                AND m.user_id = ",
            $user,
            "::bigint AND m.role IN (",
            $roles,
            ")))"
        )
    };
}

/// The condition that user `$user` takes part in project `$project` (owner or member).
macro_rules! takes_part {
    ($project:literal, $user:literal) => {
        concat!(
            "(EXISTS (SELECT 1 FROM projects p WHERE p.id = ",
            $project,
            "::bigint AND p.owner_id = ",
            $user,
            "::bigint) OR EXISTS (SELECT 1 FROM members m WHERE m.project_id = ",
            $project,
            "::bigint AND m.user_id = ",
            $user,
            "::bigint))"
        )
    };
}

/// An `Event` document of the events row aliased `$e`; `created` is RFC 3339 in UTC with
/// microseconds, as `Event` reads it.
macro_rules! event_doc {
    ($e:literal) => {
        concat!(
            "json_build_object('id', ",
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
        'created', to_char(",
            $e,
            ".created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
        'subject_id', ",
            $e,
            ".subject_id)"
        )
    };
}

/// The CTE `ev`: the event a write records, inserted from `$select`, a query of one row per
/// change giving its type, project, object, actor, subject and time, in that order (so a write
/// that changed nothing records nothing).
macro_rules! record_event {
    ($select:literal) => {
        concat!(
            "ev AS (
    INSERT INTO events (type, project_id, object_id, actor_id, subject_id, created)
    ",
            $select,
            "
    RETURNING *
)"
        )
    };
}
