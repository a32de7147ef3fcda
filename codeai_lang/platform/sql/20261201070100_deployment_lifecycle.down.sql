DROP INDEX IF EXISTS idx_deployments_state;
ALTER TABLE deployments DROP COLUMN revision;
ALTER TABLE deployments DROP COLUMN state;
ALTER TABLE deployments DROP COLUMN name;
