-- Rate-limit counters shared by console instances: PostgreSQL only (see
-- migrations/postgres/0012). On SQLite one process owns the database and
-- counts in memory; the table exists so both dialects keep the same schema.
CREATE TABLE limiter_counts (
    key TEXT NOT NULL,
    instance BIGINT NOT NULL,
    slot_ms BIGINT NOT NULL,
    events BIGINT NOT NULL,
    window_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (key, instance, slot_ms)
);
