-- Review versions (API 1.1): a project's review video becomes a stack of numbered, immutable
-- versions, each with its members' reviews; comments belong to a version and gain ranges,
-- replies, annotations, resolution and edits.

-- The highest version number ever given in the project, so that numbers are never reused
-- after a delete. Moved on by the trigger below, within the insert of the version.
ALTER TABLE projects ADD COLUMN version_seq INTEGER NOT NULL DEFAULT 0;

-- A version's video is a `files` row of kind 'video'; deleting that row (by the version's
-- delete, the file delete or the project's) takes the version, its reviews and its comments.
CREATE TABLE versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    label TEXT,
    fps REAL,
    duration REAL,
    file_id INTEGER NOT NULL UNIQUE REFERENCES files (id) ON DELETE CASCADE,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created INTEGER NOT NULL,
    UNIQUE (project_id, number)
);

CREATE TRIGGER versions_number AFTER INSERT ON versions
BEGIN
    UPDATE projects SET version_seq = NEW.number WHERE id = NEW.project_id;
END;

CREATE TABLE reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'changes_requested')),
    note TEXT,
    updated INTEGER NOT NULL,
    UNIQUE (version_id, user_id)
);

-- Every video becomes a version: a project's newest video is its version 1, uploaded by the
-- project's owner (who uploaded it was never recorded); any older video row (none should
-- remain, the replacement removed them) is dropped, and the sweep removes its object.
DROP TRIGGER files_one_video;
ALTER TABLE files DROP COLUMN replaced;
DELETE FROM files WHERE kind = 'video'
    AND id <> (SELECT max(g.id) FROM files g WHERE g.project_id = files.project_id AND g.kind = 'video');
INSERT INTO versions (project_id, number, file_id, created_by, created)
    SELECT f.project_id, 1, f.id, p.owner_id, f.created
    FROM files f JOIN projects p ON p.id = f.project_id
    WHERE f.kind = 'video';

ALTER TABLE comments ADD COLUMN version_id INTEGER REFERENCES versions (id) ON DELETE CASCADE;
ALTER TABLE comments ADD COLUMN timecode_end REAL;
ALTER TABLE comments ADD COLUMN parent_id INTEGER REFERENCES comments (id) ON DELETE CASCADE;
ALTER TABLE comments ADD COLUMN annotation TEXT;
ALTER TABLE comments ADD COLUMN resolved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN resolved_by INTEGER REFERENCES users (id);
ALTER TABLE comments ADD COLUMN resolved_at INTEGER;
ALTER TABLE comments ADD COLUMN edited INTEGER;

-- Comments made before versions existed were made on the one video there was.
UPDATE comments SET version_id = (SELECT v.id FROM versions v WHERE v.project_id = comments.project_id);

CREATE INDEX comments_version_created ON comments (version_id, created, id);
CREATE INDEX comments_parent ON comments (parent_id);
