-- Step 1 of a comparison: the rows of submissions $a (older) and $b (newer), each with the
-- 64-bit hash of its national de-duplication key (event_key, see migration 0003), the hash of
-- all its CLD fields but the reporting period dates, which change every quarter (row_hash),
-- and a number among rows sharing its key. The chance that two different keys among 13M
-- collide is about 1 in 200,000; a collision would only show two events as one changed event
-- instead of one added and one dropped.
CREATE OR REPLACE TEMP TABLE cmp_rows AS
WITH r AS (
    SELECT
        CASE WHEN submission_id = $a THEN 'a' ELSE 'b' END AS side,
        row_no,
        team_id,
        team_name,
        Event_Type AS event_type,
        lower(coalesce(Event_Type, '')) AS event_kind,
        LA_Person_Unique_Identifier AS person_id,
        Event_Start_Date AS event_start,
        Event_End_Date AS event_end,
        Primary_Support_Reason AS primary_support_reason,
        Service_Type AS service_type,
        try_strptime(Event_Start_Date, $fmt)::DATE AS start_date,
        try_strptime(Event_End_Date, $fmt)::DATE AS end_date,
        try_strptime(Reporting_Period_Start_Date, $fmt)::DATE AS rp_start,
        try_strptime(Reporting_Period_End_Date, $fmt)::DATE AS rp_end,
        event_key,
        row_hash
    FROM submission_rows
    WHERE submission_id IN ($a, $b)
)
SELECT *,
       row_number() OVER (PARTITION BY side, event_kind, event_key ORDER BY row_hash, row_no)
           AS dup_no
FROM r
