-- API keys may have the admin role (the project's settings and purge targets
-- through /api/v1/project and /api/v1/targets).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('admin', 'editor', 'support'));
