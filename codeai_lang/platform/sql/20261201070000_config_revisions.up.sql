-- Configurations keep every revision: `configs` is the named configuration (its newest revision
-- denormalised for cheap reads), `config_revisions` the immutable history. Expand only: new
-- columns have defaults, the new table is created if missing; nothing old is dropped.
ALTER TABLE configs ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE configs ADD COLUMN version_source TEXT NOT NULL DEFAULT 'directive';

CREATE TABLE IF NOT EXISTS config_revisions (
    id             TEXT PRIMARY KEY,
    config_id      TEXT NOT NULL REFERENCES configs (id) ON DELETE CASCADE,
    revision       INTEGER NOT NULL,
    dsl_version    TEXT NOT NULL,
    version_source TEXT NOT NULL,
    source         TEXT NOT NULL,
    checksum       TEXT NOT NULL,
    warnings       TEXT NOT NULL DEFAULT '[]',
    created_by     TEXT,
    created_at     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (config_id, revision)
);

-- Rows written before this migration become their configuration's revision 1.
INSERT INTO config_revisions (id, config_id, revision, dsl_version, version_source, source, checksum, created_at)
SELECT id, id, 1, dsl_version, 'directive', source, checksum, created_at FROM configs
WHERE NOT EXISTS (SELECT 1 FROM config_revisions r WHERE r.config_id = configs.id);
