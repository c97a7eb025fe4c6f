-- Earlier quarterly submissions for the measures' look-backs: the newest one of each period
-- before $period (periods as YYYY-YYQn sort as text), newest period first.
SELECT s.id, r.period, s.release
FROM submissions s JOIN runs r ON r.id = s.run_id
WHERE r.status = 'ok' AND r.kind = 'build' AND r.period < $period
  AND ($before IS NULL OR s.id < $before)
QUALIFY row_number() OVER (PARTITION BY r.period ORDER BY s.id DESC) = 1
ORDER BY r.period DESC
LIMIT $n
