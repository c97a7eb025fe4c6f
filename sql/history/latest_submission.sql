SELECT s.id
FROM submissions s JOIN runs r ON r.id = s.run_id
WHERE r.status = 'ok' AND ($before IS NULL OR s.id < $before)
ORDER BY s.id DESC
LIMIT 1
