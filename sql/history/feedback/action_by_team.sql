-- Items of feedback file $file_id a team must act on (the record does not hold the number
-- found yet: open, or holding another one: conflict), per team.
SELECT coalesce(team_name, team_id, '(no team)') AS team, count(*) AS items
FROM feedback_items
WHERE feedback_file_id = $file_id AND status IN ('open', 'conflict')
GROUP BY ALL
ORDER BY team
