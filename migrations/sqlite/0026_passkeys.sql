-- Passkeys (WebAuthn): each user's registered credentials. `credential_id`
-- is the authenticator's id for it (base64url), unique across the instance;
-- `user_handle` the WebAuthn user id the credential holds (a UUID, one per
-- account), which a passkey sign-in without an e-mail names; `passkey` the
-- relying party's record of it (public key, signature counter) as JSON.
-- Nothing secret is stored: the private key never leaves the authenticator.
CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT    NOT NULL UNIQUE,
    user_handle   TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    passkey       TEXT    NOT NULL,
    created_ms    BIGINT  NOT NULL,
    last_used_ms  BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);
