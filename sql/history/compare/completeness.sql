-- Completeness (share of rows with a value) of every CLD field per event type, both sides.
WITH c AS (
    SELECT CASE WHEN submission_id = $a THEN 'a' ELSE 'b' END AS side,
           coalesce(coalesce(Event_Type, CASE WHEN Client_Type ILIKE '%known by association%' THEN 'Unpaid carer known by association (no event)' END), '(no event type)') AS event_type,
           count(*) AS n_rows,
           count(COLUMNS(* EXCLUDE (submission_id, row_no, team_id, team_name, event_key, row_hash)))
    FROM cmp_src($a, $b)
    WHERE submission_id IN ($a, $b)
    GROUP BY ALL
),
u AS (
    UNPIVOT c ON COLUMNS(* EXCLUDE (side, event_type, n_rows)) INTO NAME field VALUE filled
)
SELECT event_type, field,
       coalesce(sum(n_rows) FILTER (WHERE side = 'a'), 0)::BIGINT AS rows_a,
       coalesce(sum(filled) FILTER (WHERE side = 'a'), 0)::BIGINT AS filled_a,
       coalesce(sum(n_rows) FILTER (WHERE side = 'b'), 0)::BIGINT AS rows_b,
       coalesce(sum(filled) FILTER (WHERE side = 'b'), 0)::BIGINT AS filled_b
FROM u
GROUP BY ALL
ORDER BY event_type, field
