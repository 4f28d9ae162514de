-- Scheduled invalidations: no worker claims one before `not_before_ms`
-- (its `next_run_ms` starts there); the log shows the time.
ALTER TABLE invalidations ADD COLUMN not_before_ms BIGINT;

-- Invalidations of scope `tag` (every object carrying one of the tags in
-- `paths`, which holds the tags for this scope). SQLite cannot alter a
-- CHECK: the column is renamed, made again with the wider CHECK, copied and
-- the old one dropped (a column's own CHECK goes with it; nothing else names
-- the column).
ALTER TABLE invalidations RENAME COLUMN scope TO scope_before_tags;
ALTER TABLE invalidations ADD COLUMN scope TEXT NOT NULL DEFAULT 'original'
    CHECK (scope IN ('original', 'all', 'tag'));
UPDATE invalidations SET scope = scope_before_tags;
ALTER TABLE invalidations DROP COLUMN scope_before_tags;

-- What an API key may purge: path prefixes, tags and scopes (JSON, see
-- domain/key_limits.rs); NULL: everything its role allows.
ALTER TABLE api_keys ADD COLUMN limits TEXT;
