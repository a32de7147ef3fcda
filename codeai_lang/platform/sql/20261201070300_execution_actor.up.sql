-- Who started an execution (the JWT subject of the status change to `running`), and the lookup of
-- a deployment's open execution when it finishes.
ALTER TABLE executions ADD COLUMN started_by TEXT;

CREATE INDEX IF NOT EXISTS idx_executions_deployment_open ON executions (deployment_id, finished_at);
