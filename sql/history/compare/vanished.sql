-- People in $a with no row at all in $b. left_window: every event of theirs in $a ended
-- before $b's reporting period began (expected to leave the rolling window).
SELECT a.person_id,
       any_value(a.team_id) AS team_id,
       any_value(a.team_name) AS team_name,
       count(*) AS events_a,
       max(a.end_date) AS last_event_end,
       bool_and(coalesce(a.end_date < $b_start::DATE, false)) AS left_window
FROM (SELECT * FROM cmp_rows WHERE side = 'a' AND person_id IS NOT NULL) AS a
ANTI JOIN (SELECT DISTINCT person_id FROM cmp_rows WHERE side = 'b') AS b
    ON a.person_id = b.person_id
GROUP BY a.person_id
ORDER BY a.person_id
