-- The claim walks the runnable jobs in order (next_run_ms, id) and stops at the
-- first without a live lease: no scan and sort of the whole backlog per claim.
CREATE INDEX invalidations_runnable_idx ON invalidations (next_run_ms, id)
    WHERE status IN ('RECEIVED', 'PREPARING', 'FLUSHINGCLOUDIMAGESERVER', 'FLUSHINGCDNSERVERS');
