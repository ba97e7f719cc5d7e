-- The sweep asks which of a batch of object keys some file row names.
CREATE INDEX files_storage_key ON files (storage_key);

-- A project's delete removes its files itself, taking their storage keys as it goes, so their
-- objects can be removed. Cascading here would also remove a file row committed while the
-- delete ran (invisible to its snapshot) without its key: with NO ACTION such a row fails the
-- delete instead, which then runs again and sees it.
ALTER TABLE files DROP CONSTRAINT files_project_id_fkey,
    ADD CONSTRAINT files_project_id_fkey FOREIGN KEY (project_id) REFERENCES projects (id);
