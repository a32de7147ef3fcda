-- API v2 fields of a deployment. `labels` is a JSON object as text: the same type on SQLite and
-- PostgreSQL, and only the application reads it. Both have defaults, so v1 writers keep working.
ALTER TABLE deployments ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE deployments ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
