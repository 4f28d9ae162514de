-- A project's setup, as a worker reads it before purging (the project's
-- settings, its purge targets, whether it has a notification hook), carries a
-- version that every change to it moves. A claim returns the version, so a
-- worker keeps what it read until the version moves: no clock, no staleness.
-- Versions come from one counter, so no two project states ever share one
-- (not even a deleted project's and a new project's that reuses its id).
-- (PostgreSQL's migration 0014 has no SQLite counterpart; the numbers match.)
CREATE TABLE project_setup_versions (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);
ALTER TABLE projects ADD COLUMN setup_version INTEGER NOT NULL DEFAULT 0;
UPDATE projects SET setup_version = id;
INSERT INTO project_setup_versions (id, last) SELECT 1, coalesce(max(id), 0) FROM projects;

-- Inserting a project id here moves that project to the next version: the
-- one place the triggers below share.
CREATE VIEW project_setup_changes (project_id) AS SELECT NULL;

CREATE TRIGGER project_setup_changes_apply INSTEAD OF INSERT ON project_setup_changes
BEGIN
    UPDATE project_setup_versions SET last = last + 1;
    UPDATE projects SET setup_version = (SELECT last FROM project_setup_versions) WHERE id = NEW.project_id;
END;

CREATE TRIGGER projects_setup_created AFTER INSERT ON projects
BEGIN
    INSERT INTO project_setup_changes VALUES (NEW.id);
END;

-- The project's own columns (not `id`: locking a project by `SET id = id`
-- changes nothing; not `setup_version`, so the bump does not fire it again).
CREATE TRIGGER projects_setup_changed
AFTER UPDATE OF token, name, origin_hosts, max_age_secs, s_maxage_secs, edge_settings, retention_days ON projects
BEGIN
    INSERT INTO project_setup_changes VALUES (NEW.id);
END;

-- Its targets (any change) and its hooks (added or removed: a hook's last
-- delivery result is not part of the setup).
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

CREATE TRIGGER notification_hooks_setup_added AFTER INSERT ON notification_hooks
BEGIN
    INSERT INTO project_setup_changes VALUES (NEW.project_id);
END;

CREATE TRIGGER notification_hooks_setup_removed AFTER DELETE ON notification_hooks
BEGIN
    INSERT INTO project_setup_changes VALUES (OLD.project_id);
END;
