SELECT status, count(*) FROM feedback_items WHERE checked_in_run = $run_id GROUP BY status
