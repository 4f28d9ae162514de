-- A lease belongs to one claim: every claim writes a fresh token and every
-- worker write checks it (lease_owner stays, naming the worker for notes and logs).
-- `claims` counts the claims of the current attempt; Retry resets it.
ALTER TABLE invalidations ADD COLUMN lease_token TEXT;
ALTER TABLE invalidations ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
