-- This database's identity, made once. The cache namespaces its Redis keys with it, so two
-- deployments sharing one Redis, or a database created again under a warm Redis, never read
-- each other's values.
CREATE TABLE deployment (
    id TEXT PRIMARY KEY
);

INSERT INTO deployment (id) VALUES (lower(hex(randomblob(16))));
