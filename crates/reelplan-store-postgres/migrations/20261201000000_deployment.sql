-- This database's identity, made once. The cache namespaces its Redis keys with it, so two
-- deployments sharing one Redis, or a database created again under a warm Redis, never read
-- each other's values.
CREATE TABLE deployment (
    id text PRIMARY KEY
);

INSERT INTO deployment (id) VALUES (md5(random()::text || clock_timestamp()::text));
