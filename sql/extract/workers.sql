-- workers: all workers and their team.
SELECT w.worker_id, w.team_id, w.worker_name, w.email
FROM workers w
