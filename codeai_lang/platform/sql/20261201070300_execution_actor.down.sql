DROP INDEX IF EXISTS idx_executions_deployment_open;
ALTER TABLE executions DROP COLUMN started_by;
