-- Feedback items by team and status, with the age of the oldest outstanding one
-- ($team: one team's id, or NULL for every team).
SELECT coalesce(team_name, team_id, '(no team)') AS team, status, count(*) AS items,
       max(date_diff('day', received_on, $today::DATE))
           FILTER (WHERE status IN ('open', 'conflict')) AS oldest_days
FROM feedback_items
WHERE $team::VARCHAR IS NULL OR team_id = $team::VARCHAR
GROUP BY ALL
ORDER BY team, status
