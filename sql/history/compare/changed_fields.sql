-- Which CLD fields differ in each changed event (pairs of rows row_a of $a, row_b of $b),
-- in file order. Only changed pairs are unpivoted, so this stays small.
WITH pairs AS (
    SELECT row_a, row_b FROM cmp_events WHERE change = 'changed'
),
va AS (
    SELECT row_no, field, value
    FROM (
        SELECT row_no, * EXCLUDE (submission_id, row_no, team_id, team_name, event_key, row_hash,
                                  Reporting_Period_Start_Date, Reporting_Period_End_Date)
        FROM cmp_src($a, $b)
        WHERE submission_id = $a AND row_no IN (SELECT row_a FROM pairs)
    ) UNPIVOT INCLUDE NULLS (value FOR field IN (COLUMNS(* EXCLUDE (row_no))))
),
vb AS (
    SELECT row_no, field, value
    FROM (
        SELECT row_no, * EXCLUDE (submission_id, row_no, team_id, team_name, event_key, row_hash,
                                  Reporting_Period_Start_Date, Reporting_Period_End_Date)
        FROM cmp_src($a, $b)
        WHERE submission_id = $b AND row_no IN (SELECT row_b FROM pairs)
    ) UNPIVOT INCLUDE NULLS (value FOR field IN (COLUMNS(* EXCLUDE (row_no))))
),
positions AS (
    SELECT column_name AS field, ordinal_position
    FROM information_schema.columns
    WHERE table_name = 'submission_rows' AND table_schema = 'main'
)
SELECT p.row_a, p.row_b, list(va.field ORDER BY pos.ordinal_position) AS changed_fields
FROM pairs AS p
JOIN va ON va.row_no = p.row_a
JOIN vb ON vb.row_no = p.row_b AND vb.field = va.field
JOIN positions AS pos ON pos.field = va.field
WHERE va.value IS DISTINCT FROM vb.value
GROUP BY p.row_a, p.row_b
