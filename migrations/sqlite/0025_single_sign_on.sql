-- Single sign-on: the OpenID Connect providers owners configure, and the
-- instance's policy. The client secret is sealed with the credential key
-- (backend/vault.rs), never stored plain. `domains`: allowed e-mail domains,
-- one per line; `group_map`: lines `group = project_token:role`.
CREATE TABLE sso_providers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    issuer        TEXT    NOT NULL,
    client_id     TEXT    NOT NULL,
    client_secret TEXT    NOT NULL,
    domains       TEXT    NOT NULL,
    groups_claim  TEXT,
    group_map     TEXT    NOT NULL DEFAULT '',
    created_ms    BIGINT  NOT NULL
);
-- One row at most: whether password sign-in is refused to everyone but the
-- break-glass owner (whose account stays usable when the provider is down).
CREATE TABLE sso_policy (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    required            BOOLEAN NOT NULL,
    break_glass_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_ms          BIGINT  NOT NULL
);
