-- Per-project notification hooks: an HTTPS URL called (signed like the
-- webhook target) when an invalidation ends in an error status, or on every
-- final status when every_final is set. last_result is what the last call
-- answered (status or kind of failure, never the secret).
CREATE TABLE notification_hooks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    secret      TEXT,
    every_final BOOLEAN NOT NULL DEFAULT 0,
    created_ms  BIGINT  NOT NULL,
    last_result TEXT,
    last_ms     BIGINT,
    CONSTRAINT notification_hooks_project_name_key UNIQUE (project_id, name)
);

-- Which final invalidations the notifier has handled: each is claimed once
-- (an atomic UPDATE, so one instance sends); Retry clears it. Everything
-- already final counts as handled.
ALTER TABLE invalidations ADD COLUMN notified_ms BIGINT;
UPDATE invalidations SET notified_ms = finished_ms WHERE finished_ms IS NOT NULL;
CREATE INDEX invalidations_unnotified_idx ON invalidations (finished_ms) WHERE notified_ms IS NULL;
