-- Instance roles beside the per-project ones: `owner` (creates projects,
-- manages every user) and `staff` (read-only on every project); NULL for
-- everyone else. The first-start admin is the owner of an existing install.
ALTER TABLE users ADD COLUMN instance_role TEXT CHECK (instance_role IN ('owner', 'staff'));
ALTER TABLE users ADD COLUMN last_sign_in_ms BIGINT;
UPDATE users SET instance_role = 'owner' WHERE id = (SELECT MIN(id) FROM users);

-- One-time links that let a new member set their password. Only a SHA-256
-- of the random token is stored; a link works once, until it expires.
CREATE TABLE invitations (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    used_ms    BIGINT
);
CREATE INDEX invitations_user_idx ON invitations (user_id);
