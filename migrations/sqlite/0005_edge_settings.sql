-- What the edge and the CDN nodes need per project beyond origin hosts and
-- caching intervals: origin scheme, CNAME, URL signing, purge behaviour.
-- One JSON document (see EdgeSettings in src/backend/store/model.rs); the
-- console validates it field by field before it is stored.
ALTER TABLE projects ADD COLUMN edge_settings TEXT NOT NULL DEFAULT '{}';
