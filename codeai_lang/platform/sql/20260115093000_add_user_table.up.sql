-- Users, and who created each deployment.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT,
    role          TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member', 'viewer')),
    created_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- SQLite accepts ADD COLUMN … REFERENCES only when the column's default is NULL, which it is here.
ALTER TABLE deployments ADD COLUMN created_by TEXT REFERENCES users (id) ON DELETE SET NULL;

CREATE INDEX idx_deployments_created_by ON deployments (created_by);
