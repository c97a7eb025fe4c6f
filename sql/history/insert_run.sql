INSERT INTO runs (id, kind, period, release, source, started_at, ended_at, status, error,
                  submissions, submission_rows, findings, counts, code_version)
VALUES ($id, $kind, $period, $release, $source, $started_at, $ended_at, $status, $error,
        $submissions, $submission_rows, $findings, $counts, $code_version)
