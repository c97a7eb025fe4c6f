-- The findings a run recorded, in a stable order (rule, then row).
SELECT * FROM findings WHERE run_id = $run ORDER BY rule_id, "row"
