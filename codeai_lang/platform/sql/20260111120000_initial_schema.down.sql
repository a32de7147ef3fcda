-- Children before parents so no foreign key is left dangling; indexes go with their tables.
DROP TABLE executions;
DROP TABLE deployments;
DROP TABLE configs;
