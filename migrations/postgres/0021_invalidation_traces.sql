-- The W3C trace context (`traceparent`) of the request that submitted an
-- invalidation, written only while OpenTelemetry traces are on
-- (`telemetry.otlp_endpoint`), so that the worker's spans join the request's
-- trace. Written before the invalidation itself (no foreign key: the worker
-- may take a new job at once); removed with it, like its other rows (0016).
CREATE TABLE invalidation_traces (
    invalidation_id UUID PRIMARY KEY,
    trace_parent TEXT NOT NULL
);

CREATE FUNCTION imgflush_invalidation_traces_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM invalidation_traces t USING deleted d WHERE t.invalidation_id = d.id;
    RETURN NULL;
END $$;

CREATE TRIGGER invalidation_traces_deleted AFTER DELETE ON invalidations
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION imgflush_invalidation_traces_deleted();
