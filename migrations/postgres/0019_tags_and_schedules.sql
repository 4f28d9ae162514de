-- Scheduled invalidations: no worker claims one before `not_before_ms`
-- (its `next_run_ms` starts there); the log shows the time.
ALTER TABLE invalidations ADD COLUMN not_before_ms BIGINT;

-- Invalidations of scope `tag` (every object carrying one of the tags in
-- `paths`, which holds the tags for this scope).
ALTER TABLE invalidations DROP CONSTRAINT invalidations_scope_check;
ALTER TABLE invalidations ADD CONSTRAINT invalidations_scope_check CHECK (scope IN ('original', 'all', 'tag'));

-- What an API key may purge: path prefixes, tags and scopes (JSON, see
-- domain/key_limits.rs); NULL: everything its role allows.
ALTER TABLE api_keys ADD COLUMN limits TEXT;
