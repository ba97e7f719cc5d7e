-- reelplan schema, SQLite. Times are INTEGER microseconds since the Unix epoch, UTC.
-- Ids are AUTOINCREMENT so that a deleted row's id is never handed out again (caches and
-- cursors key on ids).

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    nickname TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id INTEGER NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    manager TEXT NOT NULL DEFAULT '',
    consumer TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    color TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    basic_plan_start INTEGER,
    basic_plan_end INTEGER,
    story_board_start INTEGER,
    story_board_end INTEGER,
    filming_start INTEGER,
    filming_end INTEGER,
    video_edit_start INTEGER,
    video_edit_end INTEGER,
    post_work_start INTEGER,
    post_work_end INTEGER,
    video_preview_start INTEGER,
    video_preview_end INTEGER,
    confirmation_start INTEGER,
    confirmation_end INTEGER,
    video_delivery_start INTEGER,
    video_delivery_end INTEGER,
    -- First non-null start in phase order; first non-null end in reverse phase order.
    earliest_start_date INTEGER GENERATED ALWAYS AS (
        COALESCE(basic_plan_start, story_board_start, filming_start, video_edit_start,
                 post_work_start, video_preview_start, confirmation_start, video_delivery_start)
    ) STORED,
    latest_end_date INTEGER GENERATED ALWAYS AS (
        COALESCE(video_delivery_end, confirmation_end, video_preview_end, post_work_end,
                 video_edit_end, filming_end, story_board_end, basic_plan_end)
    ) STORED,
    -- Members, not counting the owner; kept in step by the triggers on members.
    member_count INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX projects_owner_created ON projects (owner_id, created DESC, id DESC);
CREATE INDEX projects_active ON projects (earliest_start_date, latest_end_date);

CREATE TABLE members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'manager')),
    created INTEGER NOT NULL,
    UNIQUE (project_id, user_id)
);

CREATE INDEX members_user_project ON members (user_id, project_id);

CREATE TRIGGER members_count_insert AFTER INSERT ON members
BEGIN
    UPDATE projects SET member_count = member_count + 1 WHERE id = NEW.project_id;
END;

CREATE TRIGGER members_count_delete AFTER DELETE ON members
BEGIN
    UPDATE projects SET member_count = member_count - 1 WHERE id = OLD.project_id;
END;

CREATE TABLE comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    text TEXT NOT NULL,
    timecode REAL,
    created INTEGER NOT NULL
);

CREATE INDEX comments_project_created ON comments (project_id, created, id);
CREATE INDEX comments_user_project ON comments (user_id, project_id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    text TEXT NOT NULL,
    created INTEGER NOT NULL
);

CREATE INDEX messages_project_created ON messages (project_id, created, id);
CREATE INDEX messages_user_project ON messages (user_id, project_id);

CREATE TABLE memos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    date INTEGER NOT NULL,
    text TEXT NOT NULL,
    created INTEGER NOT NULL
);

CREATE INDEX memos_project_date ON memos (project_id, date, id);

CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'video')),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    storage_key TEXT NOT NULL,
    created INTEGER NOT NULL
);

CREATE INDEX files_project ON files (project_id, id);
