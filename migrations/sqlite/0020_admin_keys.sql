-- API keys may have the admin role (the project's settings and purge targets
-- through /api/v1/project and /api/v1/targets).
--
-- SQLite cannot change a CHECK: the table is rebuilt, as in 0018. Unlike
-- targets, api_keys is referenced (invalidations.api_key_id, ON DELETE SET
-- NULL): dropping the old table runs that action, so the links are kept
-- aside first and put back after.
CREATE TABLE api_keys_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    prefix       TEXT   NOT NULL,
    secret_hash  TEXT   NOT NULL,
    role         TEXT   NOT NULL CHECK (role IN ('admin', 'editor', 'support')),
    created_ms   BIGINT NOT NULL,
    last_used_ms BIGINT,
    revoked_ms   BIGINT,
    limits       TEXT,
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix)
);

INSERT INTO api_keys_new (id, project_id, name, prefix, secret_hash, role, created_ms, last_used_ms, revoked_ms, limits)
    SELECT id, project_id, name, prefix, secret_hash, role, created_ms, last_used_ms, revoked_ms, limits FROM api_keys;

-- A revoked key's ID is never given to a new one.
DELETE FROM sqlite_sequence WHERE name = 'api_keys_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'api_keys_new', seq FROM sqlite_sequence WHERE name = 'api_keys';

CREATE TEMP TABLE invalidation_key_links AS
    SELECT id, api_key_id FROM invalidations WHERE api_key_id IS NOT NULL;

DROP TABLE api_keys;
ALTER TABLE api_keys_new RENAME TO api_keys;

UPDATE invalidations
   SET api_key_id = (SELECT l.api_key_id FROM invalidation_key_links l WHERE l.id = invalidations.id)
 WHERE id IN (SELECT id FROM invalidation_key_links);

DROP TABLE invalidation_key_links;
