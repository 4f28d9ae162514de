-- Purge targets of any kind the console knows (edges, Varnish nodes, hooks and
-- the CDN providers' APIs): the kind is checked by the code that reads it (an
-- unknown kind reads as a corrupt row), not by a CHECK listing the kinds, so
-- a new driver needs no migration. Each target carries its kind's settings
-- (JSON object of strings) and its provider credentials, encrypted.
ALTER TABLE targets DROP CONSTRAINT IF EXISTS targets_kind_check;
ALTER TABLE targets ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE targets ADD COLUMN credentials TEXT;

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
