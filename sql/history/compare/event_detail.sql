-- Every event added, dropped or changed, with who and when from the stored rows (row numbers
-- are 0-based rows of each file).
SELECT e.change, e.event_type,
       coalesce(rb.LA_Person_Unique_Identifier, ra.LA_Person_Unique_Identifier) AS person_id,
       coalesce(rb.Event_Start_Date, ra.Event_Start_Date) AS event_start,
       coalesce(rb.Event_End_Date, ra.Event_End_Date) AS event_end,
       coalesce(rb.team_id, ra.team_id) AS team_id,
       coalesce(rb.team_name, ra.team_name) AS team_name,
       e.left_window, e.row_a, e.row_b
FROM (SELECT * FROM cmp_events WHERE change <> 'unchanged') AS e
LEFT JOIN cmp_src($a, $b) AS ra ON ra.submission_id = $a AND ra.row_no = e.row_a
LEFT JOIN cmp_src($a, $b) AS rb ON rb.submission_id = $b AND rb.row_no = e.row_b
ORDER BY e.change, e.event_type, person_id, event_start, e.row_a, e.row_b
