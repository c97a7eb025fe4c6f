-- The submission a run recorded.
SELECT id FROM submissions WHERE run_id = $run_id ORDER BY id LIMIT 1
