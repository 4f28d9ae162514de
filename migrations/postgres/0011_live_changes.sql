-- The live log: every status change (by a worker in any process or instance,
-- a submit, a retry, a cancel) is announced on `imgflush_changes` as
-- "project_id id status"; consoles LISTEN and push it to open pages.
CREATE FUNCTION imgflush_notify_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('imgflush_changes', NEW.project_id::text || ' ' || NEW.id::text || ' ' || NEW.status);
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER invalidations_notify_change
    AFTER INSERT OR UPDATE OF status ON invalidations
    FOR EACH ROW EXECUTE FUNCTION imgflush_notify_change();
