-- shown_status (what `cld history runs` prints): a build whose checks left errors (not ready
-- to submit) shows as 'blocked'; runs recorded before counts held "ready" are judged by their
-- error findings. status itself stays 'ok'/'failed' (recorded or not).
SELECT id, kind, period, release, status, started_at, ended_at,
       date_diff('second', started_at, ended_at) AS seconds,
       submissions, submission_rows, findings,
       json_extract_string(counts, '$.la_code') AS la_code,  -- a recorded check: whose file
       CASE WHEN status = 'ok' AND kind = 'build'
                 AND NOT coalesce(TRY_CAST(json_extract_string(counts, '$.ready') AS BOOLEAN),
                                  NOT EXISTS (SELECT 1 FROM findings f
                                              WHERE f.run_id = runs.id
                                                AND f.severity = 'error'))
            THEN 'blocked' ELSE status END AS shown_status,
       error, source, code_version
FROM runs
ORDER BY id
