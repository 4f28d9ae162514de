-- The live log: SQLite has no NOTIFY, so consoles poll for rows whose
-- updated_ms moved (every status change sets it); this index serves the poll.
CREATE INDEX invalidations_updated_idx ON invalidations (updated_ms);
