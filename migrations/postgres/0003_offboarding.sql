-- Offboarding: sessions remember the epoch they were signed in under; a
-- password change or removal bumps it and every older session ends.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
