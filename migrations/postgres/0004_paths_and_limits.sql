-- The log's path search: one row per submitted path, so a search is an index
-- range over (project_id, path) instead of a LIKE over every row's JSON.
-- COLLATE "C" makes comparisons byte-wise, so `path >= q AND path < q || U+10FFFF`
-- is a prefix match the plain btree index serves (whatever the database's locale).
CREATE TABLE invalidation_paths (
    invalidation_id UUID   NOT NULL REFERENCES invalidations (id) ON DELETE CASCADE,
    project_id      BIGINT NOT NULL,
    path            TEXT   COLLATE "C" NOT NULL,
    PRIMARY KEY (invalidation_id, path)
);
CREATE INDEX invalidation_paths_search_idx ON invalidation_paths (project_id, path);

INSERT INTO invalidation_paths (invalidation_id, project_id, path)
SELECT i.id, i.project_id, p.path FROM invalidations i, json_array_elements_text(i.paths::json) AS p(path)
ON CONFLICT DO NOTHING;
