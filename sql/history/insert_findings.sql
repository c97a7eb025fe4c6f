-- _new_findings: the findings frame registered by the store, columns as in the table.
INSERT INTO findings BY NAME SELECT * FROM _new_findings
