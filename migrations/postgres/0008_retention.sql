-- How long a project keeps its invalidations (their events, target results
-- and paths go with them); final ones older than this are pruned.
ALTER TABLE projects ADD COLUMN retention_days BIGINT NOT NULL DEFAULT 90;
CREATE INDEX invalidations_created_idx ON invalidations (project_id, created_ms);
