-- The index goes first: SQLite refuses to drop an indexed column. PostgreSQL drops the column's
-- foreign key with it; SQLite (3.35+) drops a column whose own REFERENCES clause is its only tie.
DROP INDEX idx_deployments_created_by;
ALTER TABLE deployments DROP COLUMN created_by;
DROP TABLE users;
