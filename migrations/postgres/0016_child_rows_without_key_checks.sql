-- An invalidation's events, paths and target rows no longer check their
-- foreign key to it on every insert. PostgreSQL checks a foreign key with a
-- query of its own per inserted row (`SELECT 1 … FOR KEY SHARE`), and each new
-- invalidation writes six such rows (its events, its paths): in the API
-- benchmark those checks took a fifth of PostgreSQL's time. The rows are only
-- ever written by statements that have just inserted or updated (under its
-- lease) the invalidation they belong to, so the check never finds anything.
--
-- What the keys also did, deleting the rows with their invalidation (retention,
-- a deleted project), is kept: one statement-level trigger deletes the rows of
-- every invalidation a statement deleted. SQLite keeps its keys: there a check
-- is a lookup in the same B-tree call, not a query.
ALTER TABLE invalidation_events DROP CONSTRAINT invalidation_events_invalidation_id_fkey;
ALTER TABLE invalidation_paths DROP CONSTRAINT invalidation_paths_invalidation_id_fkey;
ALTER TABLE invalidation_targets DROP CONSTRAINT invalidation_targets_invalidation_id_fkey;

CREATE FUNCTION imgflush_invalidations_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM invalidation_events e USING deleted d WHERE e.invalidation_id = d.id;
    DELETE FROM invalidation_paths p USING deleted d WHERE p.invalidation_id = d.id;
    DELETE FROM invalidation_targets t USING deleted d WHERE t.invalidation_id = d.id;
    RETURN NULL;
END $$;

CREATE TRIGGER invalidations_deleted AFTER DELETE ON invalidations
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION imgflush_invalidations_deleted();
