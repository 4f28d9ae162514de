-- Invitations belong to whoever issued them, and "invited" is a fact about
-- the account, not the presence of a link row.
--
-- `password_set`: FALSE for an account created by an invitation until its
-- holder sets a password (through the link, or `server user passwd`). A
-- project admin may send a new password link only to such an account, and
-- only when it reaches nothing beyond the admin's project.
ALTER TABLE users ADD COLUMN password_set BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE users SET password_set = FALSE
 WHERE last_sign_in_ms IS NULL
   AND EXISTS (SELECT 1 FROM invitations i WHERE i.user_id = users.id AND i.used_ms IS NULL);

-- `kind`: `password` sets the password of a new account; `join` asks an
-- existing account to join `project_id` as `role` and works only with that
-- account's own password (adding an existing user no longer grants access
-- silently). Links issued before this migration carry no project.
ALTER TABLE invitations ADD COLUMN kind TEXT NOT NULL DEFAULT 'password' CHECK (kind IN ('password', 'join'));
ALTER TABLE invitations ADD COLUMN project_id BIGINT REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE invitations ADD COLUMN role TEXT CHECK (role IN ('admin', 'editor', 'support'));
CREATE INDEX invitations_project_idx ON invitations (project_id);
