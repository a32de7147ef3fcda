DROP TABLE IF EXISTS config_revisions;
ALTER TABLE configs DROP COLUMN version_source;
ALTER TABLE configs DROP COLUMN revision;
