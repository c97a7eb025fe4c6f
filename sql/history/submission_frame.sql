SELECT * EXCLUDE (submission_id) FROM submission_rows WHERE submission_id = $id ORDER BY row_no
