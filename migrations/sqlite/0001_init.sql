-- Timestamps are milliseconds since the Unix epoch (the same in both dialects).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_ms    BIGINT  NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE projects (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    origin_hosts  TEXT    NOT NULL DEFAULT '[]',
    max_age_secs  BIGINT  NOT NULL DEFAULT 2592000,
    s_maxage_secs BIGINT  NOT NULL DEFAULT 31536000,
    created_ms    BIGINT  NOT NULL,
    CONSTRAINT projects_token_key UNIQUE (token)
);

CREATE TABLE memberships (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    role       TEXT   NOT NULL CHECK (role IN ('admin', 'editor', 'support')),
    PRIMARY KEY (user_id, project_id)
);

CREATE TABLE targets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL CHECK (kind IN ('edge', 'varnish', 'webhook')),
    name       TEXT   NOT NULL,
    url        TEXT   NOT NULL,
    secret     TEXT,
    created_ms BIGINT NOT NULL,
    CONSTRAINT targets_project_name_key UNIQUE (project_id, name)
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    prefix       TEXT   NOT NULL,
    secret_hash  TEXT   NOT NULL,
    role         TEXT   NOT NULL CHECK (role IN ('editor', 'support')),
    created_ms   BIGINT NOT NULL,
    last_used_ms BIGINT,
    revoked_ms   BIGINT,
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix)
);

CREATE TABLE invalidations (
    id              BLOB    PRIMARY KEY,
    project_id      BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    scope           TEXT    NOT NULL CHECK (scope IN ('original', 'all')),
    paths           TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempt         INTEGER NOT NULL DEFAULT 1,
    submitted_by    TEXT    NOT NULL,
    user_id         BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    api_key_id      BIGINT  REFERENCES api_keys (id) ON DELETE SET NULL,
    error           TEXT,
    created_ms      BIGINT  NOT NULL,
    updated_ms      BIGINT  NOT NULL,
    finished_ms     BIGINT,
    next_run_ms     BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until_ms  BIGINT,
    idempotency_key TEXT,
    request_hash    TEXT,
    CONSTRAINT invalidations_idempotency_key UNIQUE (project_id, idempotency_key)
);
CREATE INDEX invalidations_project_id_idx ON invalidations (project_id, id);
CREATE INDEX invalidations_queue_idx ON invalidations (status, next_run_ms);

CREATE TABLE invalidation_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    invalidation_id BLOB    NOT NULL REFERENCES invalidations (id) ON DELETE CASCADE,
    status          TEXT    NOT NULL,
    attempt         INTEGER NOT NULL,
    note            TEXT,
    at_ms           BIGINT  NOT NULL
);
CREATE INDEX invalidation_events_inv_idx ON invalidation_events (invalidation_id, id);

CREATE TABLE invalidation_targets (
    invalidation_id BLOB    NOT NULL REFERENCES invalidations (id) ON DELETE CASCADE,
    target_id       BIGINT  NOT NULL,
    kind            TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'ok', 'error', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    detail          TEXT,
    duration_ms     BIGINT,
    updated_ms      BIGINT  NOT NULL,
    PRIMARY KEY (invalidation_id, target_id)
);
