-- Purge targets of any kind the console knows (edges, Varnish nodes, hooks and
-- the CDN providers' APIs): the kind is checked by the code that reads it (an
-- unknown kind reads as a corrupt row), not by a CHECK listing the kinds, so
-- a new driver needs no migration. Each target carries its kind's settings
-- (JSON object of strings) and its provider credentials, encrypted.
--
-- SQLite cannot drop a CHECK: the table is rebuilt (nothing references it;
-- its triggers are made again, as in 0015).
CREATE TABLE targets_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind        TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    url         TEXT   NOT NULL,
    secret      TEXT,
    created_ms  BIGINT NOT NULL,
    settings    TEXT   NOT NULL DEFAULT '{}',
    credentials TEXT,
    CONSTRAINT targets_project_name_key UNIQUE (project_id, name)
);

INSERT INTO targets_new (id, project_id, kind, name, url, secret, created_ms)
    SELECT id, project_id, kind, name, url, secret, created_ms FROM targets;

-- Keep AUTOINCREMENT's high-water mark: a removed target's ID is never
-- given to a new one (its results in invalidation_targets name it).
DELETE FROM sqlite_sequence WHERE name = 'targets_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'targets_new', seq FROM sqlite_sequence WHERE name = 'targets';

DROP TABLE targets;
ALTER TABLE targets_new RENAME TO targets;

CREATE TRIGGER targets_setup_added AFTER INSERT ON targets
BEGIN
    INSERT INTO project_setup_changes VALUES (NEW.project_id);
END;

CREATE TRIGGER targets_setup_changed AFTER UPDATE ON targets
BEGIN
    INSERT INTO project_setup_changes VALUES (OLD.project_id);
    INSERT INTO project_setup_changes SELECT NEW.project_id WHERE NEW.project_id <> OLD.project_id;
END;

CREATE TRIGGER targets_setup_removed AFTER DELETE ON targets
BEGIN
    INSERT INTO project_setup_changes VALUES (OLD.project_id);
END;

-- The next free call slot of each rate-limited provider account (see
-- store/pacing.rs): reserved atomically, so every worker of every instance
-- keeps to one limit.
CREATE TABLE provider_pacing (
    account TEXT   PRIMARY KEY,
    next_ms BIGINT NOT NULL
);

-- Paths sent per provider account and month (CloudFront charges for paths
-- past 1,000 a month): `/metrics` and the Settings page show them.
CREATE TABLE provider_usage (
    account TEXT   NOT NULL,
    month   TEXT   NOT NULL,
    paths   BIGINT NOT NULL,
    PRIMARY KEY (account, month)
);
