ALTER TABLE deployments DROP COLUMN priority;
ALTER TABLE deployments DROP COLUMN labels;
