-- Step 2: match events of $a and $b on (event type, key, number among equal keys).
-- left_window: a dropped event that ended before $b's reporting period began, so it left the
-- rolling 12-month window rather than going missing.
CREATE OR REPLACE TEMP TABLE cmp_events AS
SELECT
    coalesce(b.event_type, a.event_type) AS event_type,
    CASE
        WHEN a.row_no IS NULL THEN 'added'
        WHEN b.row_no IS NULL THEN 'dropped'
        WHEN a.row_hash <> b.row_hash THEN 'changed'
        ELSE 'unchanged'
    END AS change,
    a.row_no AS row_a,
    b.row_no AS row_b,
    coalesce(b.person_id, a.person_id) AS person_id,
    coalesce(b.event_start, a.event_start) AS event_start,
    coalesce(b.event_end, a.event_end) AS event_end,
    coalesce(b.team_id, a.team_id) AS team_id,
    coalesce(b.team_name, a.team_name) AS team_name,
    b.row_no IS NULL AND coalesce(a.end_date < $b_start::DATE, false) AS left_window
FROM (SELECT * FROM cmp_rows WHERE side = 'a') AS a
FULL OUTER JOIN (SELECT * FROM cmp_rows WHERE side = 'b') AS b
    ON a.event_kind = b.event_kind AND a.event_key = b.event_key AND a.dup_no = b.dup_no
