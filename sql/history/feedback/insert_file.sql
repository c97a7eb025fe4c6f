INSERT INTO feedback_files (id, run_id, path, sha256, received_on, rows, accepted, rejected,
                            status, reason)
VALUES ($id, $run_id, $path, $sha, $received_on, $rows, $accepted, $rejected, $status, $reason)
