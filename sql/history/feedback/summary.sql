-- Feedback items by team and status, with the age of the oldest outstanding one.
SELECT coalesce(team_name, team_id, '(no team)') AS team, status, count(*) AS items,
       max(date_diff('day', received_on, $today::DATE))
           FILTER (WHERE status IN ('open', 'conflict')) AS oldest_days
FROM feedback_items
GROUP BY ALL
ORDER BY team, status
