SELECT id, kind, period, release, status, started_at, ended_at,
       date_diff('second', started_at, ended_at) AS seconds,
       submissions, submission_rows, findings, error, source, code_version
FROM runs
ORDER BY id
