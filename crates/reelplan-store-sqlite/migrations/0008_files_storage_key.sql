-- The sweep asks which of a batch of object keys some file row names.
CREATE INDEX files_storage_key ON files (storage_key);
