-- Each sign-in of a browser session: listed on the account page (device,
-- address, last seen) and ended one by one ("sign out" per session) or all
-- at once. The session cookie's data names its row; a session whose row has
-- ended is signed out on its next request. Sessions signed in before this
-- migration have no row and keep working until they end (or the password
-- changes, or "sign out everywhere" bumps the account's session epoch).
CREATE TABLE sign_ins (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_ms   BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    address      TEXT,
    user_agent   TEXT,
    ended_ms     BIGINT
);
CREATE INDEX sign_ins_user ON sign_ins (user_id, last_seen_ms);
