-- Issue 6: the feedback video is replaced in one statement. SQLite has no data-modifying
-- CTEs, so the INSERT of a new video carries the storage keys of the videos it replaces in
-- `replaced` (computed by its own SELECT, handed back by RETURNING), and this trigger then
-- deletes those rows and clears the column: one statement, one write lock, at most one video
-- row per project afterwards.
ALTER TABLE files ADD COLUMN replaced TEXT;

CREATE TRIGGER files_one_video AFTER INSERT ON files WHEN NEW.kind = 'video'
BEGIN
    DELETE FROM files WHERE project_id = NEW.project_id AND kind = 'video' AND id <> NEW.id;
    UPDATE files SET replaced = NULL WHERE id = NEW.id AND replaced IS NOT NULL;
END;
