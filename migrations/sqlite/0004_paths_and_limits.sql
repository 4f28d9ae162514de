-- The log's path search: one row per submitted path, so a search is an index
-- range over (project_id, path) instead of a LIKE over every row's JSON.
-- SQLite compares TEXT byte-wise (BINARY), so `path >= q AND path < q || U+10FFFF`
-- is a prefix match the index serves.
CREATE TABLE invalidation_paths (
    invalidation_id BLOB   NOT NULL REFERENCES invalidations (id) ON DELETE CASCADE,
    project_id      BIGINT NOT NULL,
    path            TEXT   NOT NULL,
    PRIMARY KEY (invalidation_id, path)
);
CREATE INDEX invalidation_paths_search_idx ON invalidation_paths (project_id, path);

INSERT OR IGNORE INTO invalidation_paths (invalidation_id, project_id, path)
SELECT i.id, i.project_id, p.value FROM invalidations i, json_each(i.paths) p;
