-- A version and its video's `files` row in one statement. SQLite has no data-modifying CTE,
-- so the insert of a version carries its video's row in `video_*` columns and names the id that
-- row will take (`file_id`, the next of the files table's AUTOINCREMENT sequence: SQLite runs
-- one write at a time, so nobody takes it in between); this trigger then writes the row and
-- clears the columns, within the same statement. The foreign key on `file_id` is checked at the
-- statement's end, when the row exists.
ALTER TABLE versions ADD COLUMN video_name TEXT;
ALTER TABLE versions ADD COLUMN video_type TEXT;
ALTER TABLE versions ADD COLUMN video_size INTEGER;
ALTER TABLE versions ADD COLUMN video_key TEXT;

CREATE TRIGGER versions_video AFTER INSERT ON versions WHEN NEW.video_key IS NOT NULL
BEGIN
    INSERT INTO files (id, project_id, kind, name, content_type, size, storage_key, created)
    VALUES (NEW.file_id, NEW.project_id, 'video', NEW.video_name, NEW.video_type,
            NEW.video_size, NEW.video_key, NEW.created);
    UPDATE versions SET video_name = NULL, video_type = NULL, video_size = NULL, video_key = NULL
    WHERE id = NEW.id;
END;
