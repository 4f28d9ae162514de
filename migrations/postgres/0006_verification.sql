-- The project's "verify" setting: after a CDN node was purged, the worker
-- asks it again for the purged URLs and records the proof per node.
-- NULL: not checked (verify off, or nothing could be asked; see verify_note).
ALTER TABLE invalidation_targets ADD COLUMN verified BOOLEAN;
ALTER TABLE invalidation_targets ADD COLUMN verify_note TEXT;
