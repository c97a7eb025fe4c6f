-- Every event added, dropped or changed (row numbers are 0-based rows of each file).
SELECT change, event_type, person_id, event_start, event_end, team_id, team_name,
       left_window, row_a, row_b
FROM cmp_events
WHERE change <> 'unchanged'
ORDER BY change, event_type, person_id, event_start, row_a, row_b
