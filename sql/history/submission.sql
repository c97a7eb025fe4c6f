-- Columns in the order of pipelines.history.store.SubmissionInfo.
SELECT s.id, s.run_id, s.path, s.sha256, s.rows, s.release, s.sent_to_portal, r.period, r.kind,
       s.created_at
FROM submissions s JOIN runs r ON r.id = s.run_id
WHERE s.id = $id
