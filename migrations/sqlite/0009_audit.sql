-- Every state-changing action: who (a user's e-mail, an API key's name, or
-- the CLI), when, from which address and user agent, what changed. Never a
-- secret. project_id is NULL for instance-wide events (sign-ins). Rows stay
-- when the user or key they name is gone.
CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms      BIGINT NOT NULL,
    project_id BIGINT,
    actor      TEXT   NOT NULL,
    user_id    BIGINT,
    api_key_id BIGINT,
    ip         TEXT,
    user_agent TEXT,
    action     TEXT   NOT NULL,
    detail     TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_project_idx ON audit_events (project_id, id);
