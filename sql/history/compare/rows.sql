-- Step 1 of a comparison: a narrow table of the rows of submissions $a (older) and $b (newer):
-- the 64-bit hash of each row's national de-duplication key (event_key, see migration 0003),
-- the hash of all its CLD fields but the reporting period dates, which change every quarter
-- (row_hash), and its number among rows sharing its key. The chance that two different keys
-- among 13M collide is about 1 in 200,000; a collision would only show two events as one
-- changed event instead of one added and one dropped.
CREATE OR REPLACE TEMP TABLE cmp_rows AS
SELECT
    CASE WHEN submission_id = $a THEN 'a' ELSE 'b' END AS side,
    row_no,
    -- carers known by association have no event: named, not shown as a blank type
    coalesce(Event_Type, CASE WHEN Client_Type ILIKE '%known by association%' THEN 'Unpaid carer known by association (no event)' END) AS event_type,
    try_strptime(Event_End_Date, $fmt)::DATE AS end_date,
    event_key,
    row_hash,
    row_number() OVER (PARTITION BY submission_id, event_key ORDER BY row_hash, row_no)
        AS dup_no
FROM cmp_src($a, $b)
WHERE submission_id IN ($a, $b)
