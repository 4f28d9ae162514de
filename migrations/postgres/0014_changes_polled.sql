-- The live log polls for rows whose updated_ms moved, as on SQLite, instead of
-- a trigger NOTIFYing every status change. A transaction that NOTIFYs takes a
-- database-wide lock from its commit until its WAL flush ends, so with the
-- trigger every insert and every worker update committed one fsync at a time
-- (no group commit): 548 against 12,690 inserts/s in a pgbench run here.
DROP TRIGGER invalidations_notify_change ON invalidations;
DROP FUNCTION imgflush_notify_change();
CREATE INDEX invalidations_updated_idx ON invalidations (updated_ms);
