-- The toolchain's own schema: configurations, their deployments, and each execution of a deployment.
-- Portable SQL (runs unchanged on SQLite and PostgreSQL): ids are TEXT (UUIDs made by the
-- application) because the two dialects spell auto-increment differently; timestamps default to
-- CURRENT_TIMESTAMP, which both understand. See docs/sql-migrations.md.

CREATE TABLE configs (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    dsl_version TEXT NOT NULL,
    source      TEXT NOT NULL,
    checksum    TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE deployments (
    id          TEXT PRIMARY KEY,
    config_id   TEXT NOT NULL REFERENCES configs (id) ON DELETE CASCADE,
    environment TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_deployments_config_id ON deployments (config_id);
CREATE INDEX idx_deployments_status ON deployments (status);

CREATE TABLE executions (
    id            TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    status        TEXT NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    exit_code     INTEGER,
    output        TEXT,
    started_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    finished_at   TIMESTAMP
);

CREATE INDEX idx_executions_deployment_id ON executions (deployment_id);
CREATE INDEX idx_executions_status_started ON executions (status, started_at);
