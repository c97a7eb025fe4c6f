SELECT s.id, s.run_id, r.kind, r.period, s.release, s.rows, s.sent_to_portal, s.sent_at,
       s.created_at, s.sha256, s.path
FROM submissions s JOIN runs r ON r.id = s.run_id
WHERE r.status = 'ok'
ORDER BY s.id
