-- A project's setup, as a worker reads it before purging (the project's
-- settings, its purge targets, whether it has a notification hook), carries a
-- version that every change to it moves. A claim returns the version, so a
-- worker keeps what it read until the version moves: no clock, no staleness.
-- Versions come from one sequence, so no two project states ever share one
-- (not even a deleted project's and a new project's that reuses its id).
CREATE SEQUENCE project_setup_versions;
ALTER TABLE projects ADD COLUMN setup_version BIGINT NOT NULL DEFAULT nextval('project_setup_versions');

-- The project's own columns (not `id`, not `setup_version` itself).
CREATE FUNCTION imgflush_project_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.setup_version := nextval('project_setup_versions');
    RETURN NEW;
END $$;

CREATE TRIGGER projects_setup_version
    BEFORE UPDATE OF token, name, origin_hosts, max_age_secs, s_maxage_secs, edge_settings, retention_days
    ON projects FOR EACH ROW EXECUTE FUNCTION imgflush_project_changed();

-- Its targets (any change) and its hooks (added or removed: a hook's last
-- delivery result is not part of the setup).
CREATE FUNCTION imgflush_project_setup_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projects SET setup_version = nextval('project_setup_versions')
    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.project_id ELSE NEW.project_id END;
    RETURN NULL;
END $$;

CREATE TRIGGER targets_setup_version AFTER INSERT OR UPDATE OR DELETE ON targets
    FOR EACH ROW EXECUTE FUNCTION imgflush_project_setup_changed();

CREATE TRIGGER notification_hooks_setup_version AFTER INSERT OR DELETE ON notification_hooks
    FOR EACH ROW EXECUTE FUNCTION imgflush_project_setup_changed();
