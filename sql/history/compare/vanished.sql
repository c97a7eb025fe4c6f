-- People in $a with no row at all in $b. left_window: every event of theirs in $a ended
-- before $b's reporting period began (expected to leave the rolling window).
SELECT a.LA_Person_Unique_Identifier AS person_id,
       any_value(a.team_id) AS team_id,
       any_value(a.team_name) AS team_name,
       count(*) AS events_a,
       max(try_strptime(a.Event_End_Date, $fmt))::DATE AS last_event_end,
       bool_and(coalesce(try_strptime(a.Event_End_Date, $fmt)::DATE < $b_start::DATE, false))
           AS left_window
FROM (
    SELECT * FROM cmp_src($a, $b)
    WHERE submission_id = $a AND LA_Person_Unique_Identifier IS NOT NULL
) AS a
ANTI JOIN (
    SELECT DISTINCT LA_Person_Unique_Identifier AS person_id
    FROM cmp_src($a, $b) WHERE submission_id = $b
) AS b ON a.LA_Person_Unique_Identifier = b.person_id
GROUP BY a.LA_Person_Unique_Identifier
ORDER BY person_id
