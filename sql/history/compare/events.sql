-- Step 2: match events of $a and $b on (key, number among equal keys).
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
    b.row_no IS NULL AND coalesce(a.end_date < $b_start::DATE, false) AS left_window
FROM (SELECT * FROM cmp_rows WHERE side = 'a') AS a
FULL OUTER JOIN (SELECT * FROM cmp_rows WHERE side = 'b') AS b
    ON a.event_key = b.event_key AND a.dup_no = b.dup_no
