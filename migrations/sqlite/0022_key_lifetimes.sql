-- API key lifetimes: an optional expiry, an allow-list of source networks,
-- the address of the last use, the successor of a rolled key, and when the
-- "expires in 7 days" notice went out (once per key). Existing keys keep
-- working: every new column is NULL for them (no expiry, any address).
ALTER TABLE api_keys ADD COLUMN expires_ms BIGINT;
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;
ALTER TABLE api_keys ADD COLUMN last_used_addr TEXT;
ALTER TABLE api_keys ADD COLUMN rolled_to BIGINT;
ALTER TABLE api_keys ADD COLUMN expiry_noticed_ms BIGINT;
