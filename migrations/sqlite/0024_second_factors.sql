-- Second factors (two-step sign-in). An authenticator app's TOTP secret per
-- user (RFC 6238; `last_step` is the last time step accepted, so a code is
-- accepted once), ten one-time recovery codes per user (SHA-256 of 80 random
-- bits each; never stored as typed), the browsers a user chose to remember
-- (SHA-256 of the cookie's token), and the owner's sign-in policy: who must
-- use a second factor and how long a remembered browser skips it.
-- Existing accounts have no second factor and sign in as before.
CREATE TABLE totp_factors (
    user_id      BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret       TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    confirmed_ms BIGINT,
    last_step    BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE recovery_codes (
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_ms   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE remembered_devices (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX remembered_devices_user ON remembered_devices (user_id);
CREATE TABLE sign_in_policy (
    id                INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    second_factor_for TEXT NOT NULL DEFAULT 'nobody',
    remember_days     INTEGER NOT NULL DEFAULT 30,
    updated_ms        BIGINT NOT NULL DEFAULT 0
);
INSERT INTO sign_in_policy (id) VALUES (1);
