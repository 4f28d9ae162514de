-- The W3C trace context (`traceparent`) of the request that submitted an
-- invalidation, written only while OpenTelemetry traces are on
-- (`telemetry.otlp_endpoint`), so that the worker's spans join the request's
-- trace. Written before the invalidation itself (no foreign key: the worker
-- may take a new job at once); removed with it by the trigger below.
CREATE TABLE invalidation_traces (
    invalidation_id BLOB PRIMARY KEY NOT NULL,
    trace_parent TEXT NOT NULL
);

CREATE TRIGGER invalidation_traces_deleted AFTER DELETE ON invalidations
BEGIN
    DELETE FROM invalidation_traces WHERE invalidation_id = OLD.id;
END;
