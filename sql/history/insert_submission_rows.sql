-- _new_rows: the submission frame registered by the store (row_no, team_id, team_name, fields).
INSERT INTO submission_rows BY NAME
SELECT $submission_id::INTEGER AS submission_id, * FROM _new_rows
