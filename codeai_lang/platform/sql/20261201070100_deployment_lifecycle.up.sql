-- The server's deployment lifecycle (pending, running, stopped, failed, complete) does not fit the
-- released CHECK on `status` (pending, running, succeeded, failed, cancelled), and a CHECK cannot
-- be changed in place on SQLite. Expand: a new `state` column with its own CHECK, backfilled from
-- `status`; the server writes both (status gets the nearest old word) until a later contract
-- migration drops `status`. `revision` is the optimistic-concurrency counter behind ETag/If-Match;
-- `name` is the deployment's name (old rows: their environment).
ALTER TABLE deployments ADD COLUMN name TEXT;
ALTER TABLE deployments ADD COLUMN state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'running', 'stopped', 'failed', 'complete'));
ALTER TABLE deployments ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;

UPDATE deployments SET name = environment WHERE name IS NULL;
UPDATE deployments SET state = CASE status WHEN 'succeeded' THEN 'complete' WHEN 'cancelled' THEN 'stopped'
                                           ELSE status END;

CREATE INDEX IF NOT EXISTS idx_deployments_state ON deployments (state);
