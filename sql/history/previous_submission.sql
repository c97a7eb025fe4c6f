-- The submission a new build is compared with: the newest one sent to the portal, else the
-- newest one; optionally only of one period and only older than submission $before.
SELECT s.id
FROM submissions s JOIN runs r ON r.id = s.run_id
WHERE r.status = 'ok'
  AND ($period IS NULL OR r.period = $period)
  AND ($before IS NULL OR s.id < $before)
ORDER BY s.sent_to_portal DESC, s.id DESC
LIMIT 1
