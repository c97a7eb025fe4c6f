SELECT * EXCLUDE (submission_id, event_key, row_hash) FROM submission_rows WHERE submission_id = $id ORDER BY row_no
