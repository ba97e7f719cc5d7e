-- The event outbox (API 1.1, "Live updates and activity"): every write records one event in the
-- same statement as its change. SQLite has no data-modifying CTE, so, as in 0010, the write
-- carries what its event needs on the row it changes and a trigger below records it: the actor in
-- `changed_by` (an insert or an update) or `deleted_by` (a delete), and, where the row has no
-- time of its own that the write sets, the write's time in `changed_at`. Each trigger fires only
-- when a write names its column (`WHEN NEW.changed_by IS NOT NULL` on insert, `UPDATE OF` on
-- update), so the bulk loader, cascades and the counter triggers record nothing.
--
-- A delete is spelled as an UPDATE setting `deleted_by`, whose trigger records the event and
-- then deletes the row (what hangs off it follows by cascade, silently). A refused write (its
-- permission folded into its WHERE) changes no row, so it fires nothing and records nothing.
--
-- RETURNING is computed before the AFTER triggers run, so a write hands back its event with the
-- id the trigger's insert will take: the next of the events table's AUTOINCREMENT sequence,
-- coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) + 1, which nobody can take
-- in between because SQLite runs one write at a time and a statement holds the write lock from
-- its start.

-- Events outlive their project (a stream still delivers `project.deleted`), so no foreign keys.
-- `audience` is set for `project.deleted` only: the JSON array of the user ids of the owner and
-- the members (by membership id) at deletion.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    project_id INTEGER NOT NULL,
    object_id INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    subject_id INTEGER,
    audience TEXT,
    created INTEGER NOT NULL
);

-- A project's events (a stream's projects, its activity).
CREATE INDEX events_project ON events (project_id, id);
-- A user's own member events, kept after they left the project.
CREATE INDEX events_subject ON events (subject_id, id) WHERE subject_id IS NOT NULL;
-- The deletions of projects, whose audiences a stream looks for its user in.
CREATE INDEX events_audience ON events (id) WHERE audience IS NOT NULL;
-- Pruning by age.
CREATE INDEX events_created ON events (created);

-- The highest event id pruned from the log (0 when none was).
CREATE TABLE event_horizon (
    pruned_through INTEGER NOT NULL
);

INSERT INTO event_horizon (pruned_through) VALUES (0);

-- Whatever deletes events (the prune), the horizon moves past them.
CREATE TRIGGER events_pruned AFTER DELETE ON events
BEGIN
    UPDATE event_horizon SET pruned_through = OLD.id WHERE pruned_through < OLD.id;
END;

-- Projects: `change` names the update's event ('project.updated' or 'phase.updated', which write
-- the same row); the time is `created` or `updated`, which every project write sets.
ALTER TABLE projects ADD COLUMN changed_by INTEGER;
ALTER TABLE projects ADD COLUMN change TEXT;
ALTER TABLE projects ADD COLUMN deleted_by INTEGER;

CREATE TRIGGER projects_created_event AFTER INSERT ON projects WHEN NEW.changed_by IS NOT NULL
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, subject_id, created)
    VALUES ('project.updated', NEW.id, NEW.id, NEW.changed_by, NEW.owner_id, NEW.created);
END;

CREATE TRIGGER projects_changed_event AFTER UPDATE OF changed_by ON projects
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES (NEW.change, NEW.id, NEW.id, NEW.changed_by, NEW.updated);
END;

CREATE TRIGGER projects_deleted_event AFTER UPDATE OF deleted_by ON projects
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, audience, created)
    VALUES ('project.deleted', NEW.id, NEW.id, NEW.deleted_by,
            (SELECT json_group_array(user_id ORDER BY member_id) FROM (
                 SELECT NEW.owner_id AS user_id, 0 AS member_id
                 UNION ALL
                 SELECT user_id, id FROM members WHERE project_id = NEW.id)),
            NEW.updated);
    DELETE FROM projects WHERE id = NEW.id;
END;

-- Members: the subject of each event is the member's user.
ALTER TABLE members ADD COLUMN changed_by INTEGER;
ALTER TABLE members ADD COLUMN changed_at INTEGER;
ALTER TABLE members ADD COLUMN deleted_by INTEGER;

CREATE TRIGGER members_added_event AFTER INSERT ON members WHEN NEW.changed_by IS NOT NULL
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, subject_id, created)
    VALUES ('member.added', NEW.project_id, NEW.id, NEW.changed_by, NEW.user_id, NEW.created);
END;

CREATE TRIGGER members_updated_event AFTER UPDATE OF changed_by ON members
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, subject_id, created)
    VALUES ('member.updated', NEW.project_id, NEW.id, NEW.changed_by, NEW.user_id,
            NEW.changed_at);
END;

CREATE TRIGGER members_removed_event AFTER UPDATE OF deleted_by ON members
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, subject_id, created)
    VALUES ('member.removed', NEW.project_id, NEW.id, NEW.deleted_by, NEW.user_id,
            NEW.changed_at);
    DELETE FROM members WHERE id = NEW.id;
END;

-- Comments: deleting one takes its replies by cascade, with no event of their own.
ALTER TABLE comments ADD COLUMN changed_by INTEGER;
ALTER TABLE comments ADD COLUMN changed_at INTEGER;
ALTER TABLE comments ADD COLUMN deleted_by INTEGER;

CREATE TRIGGER comments_created_event AFTER INSERT ON comments WHEN NEW.changed_by IS NOT NULL
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES ('comment.created', NEW.project_id, NEW.id, NEW.changed_by, NEW.created);
END;

CREATE TRIGGER comments_updated_event AFTER UPDATE OF changed_by ON comments
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES ('comment.updated', NEW.project_id, NEW.id, NEW.changed_by, NEW.changed_at);
END;

CREATE TRIGGER comments_deleted_event AFTER UPDATE OF deleted_by ON comments
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES ('comment.deleted', NEW.project_id, NEW.id, NEW.deleted_by, NEW.changed_at);
    DELETE FROM comments WHERE id = NEW.id;
END;

ALTER TABLE messages ADD COLUMN changed_by INTEGER;

CREATE TRIGGER messages_created_event AFTER INSERT ON messages WHEN NEW.changed_by IS NOT NULL
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES ('message.created', NEW.project_id, NEW.id, NEW.changed_by, NEW.created);
END;

ALTER TABLE memos ADD COLUMN changed_by INTEGER;
ALTER TABLE memos ADD COLUMN changed_at INTEGER;
ALTER TABLE memos ADD COLUMN deleted_by INTEGER;

CREATE TRIGGER memos_created_event AFTER INSERT ON memos WHEN NEW.changed_by IS NOT NULL
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES ('memo.created', NEW.project_id, NEW.id, NEW.changed_by, NEW.created);
END;

CREATE TRIGGER memos_deleted_event AFTER UPDATE OF deleted_by ON memos
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES ('memo.deleted', NEW.project_id, NEW.id, NEW.deleted_by, NEW.changed_at);
    DELETE FROM memos WHERE id = NEW.id;
END;

-- Files: a version's video (kind 'video', written by `versions_video` without `changed_by`)
-- records nothing when it goes in; deleting it deletes its version (by cascade), so its event is
-- `version.deleted`, naming the version.
ALTER TABLE files ADD COLUMN changed_by INTEGER;
ALTER TABLE files ADD COLUMN changed_at INTEGER;
ALTER TABLE files ADD COLUMN deleted_by INTEGER;

CREATE TRIGGER files_created_event AFTER INSERT ON files WHEN NEW.changed_by IS NOT NULL
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES ('file.created', NEW.project_id, NEW.id, NEW.changed_by, NEW.created);
END;

CREATE TRIGGER files_deleted_event AFTER UPDATE OF deleted_by ON files
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES (CASE NEW.kind WHEN 'video' THEN 'version.deleted' ELSE 'file.deleted' END,
            NEW.project_id,
            CASE NEW.kind WHEN 'video' THEN (SELECT v.id FROM versions v WHERE v.file_id = NEW.id)
                          ELSE NEW.id END,
            NEW.deleted_by, NEW.changed_at);
    DELETE FROM files WHERE id = NEW.id;
END;

ALTER TABLE versions ADD COLUMN changed_by INTEGER;
ALTER TABLE versions ADD COLUMN changed_at INTEGER;

CREATE TRIGGER versions_created_event AFTER INSERT ON versions WHEN NEW.changed_by IS NOT NULL
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES ('version.created', NEW.project_id, NEW.id, NEW.changed_by, NEW.created);
END;

CREATE TRIGGER versions_updated_event AFTER UPDATE OF changed_by ON versions
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES ('version.updated', NEW.project_id, NEW.id, NEW.changed_by, NEW.changed_at);
END;

-- Reviews: recorded or replaced by one upsert, whose insert or update records `review.updated`,
-- naming the version; the time is the review's `updated`.
ALTER TABLE reviews ADD COLUMN changed_by INTEGER;

CREATE TRIGGER reviews_created_event AFTER INSERT ON reviews WHEN NEW.changed_by IS NOT NULL
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES ('review.updated', (SELECT v.project_id FROM versions v WHERE v.id = NEW.version_id),
            NEW.version_id, NEW.changed_by, NEW.updated);
END;

CREATE TRIGGER reviews_updated_event AFTER UPDATE OF changed_by ON reviews
BEGIN
    INSERT INTO events (type, project_id, object_id, actor_id, created)
    VALUES ('review.updated', (SELECT v.project_id FROM versions v WHERE v.id = NEW.version_id),
            NEW.version_id, NEW.changed_by, NEW.updated);
END;
