-- Rate-limit counters shared by every console instance (src/backend/limits/pg.rs):
-- one row per key, instance and time slot, added to about once a second by
-- each instance and read back by all; rows past their window are deleted.
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
CREATE INDEX limiter_counts_updated_idx ON limiter_counts (updated_ms);
CREATE INDEX limiter_counts_expires_idx ON limiter_counts (expires_ms);
