INSERT INTO submissions (id, run_id, path, sha256, rows, release, fields, created_at)
VALUES ($id, $run_id, $path, $sha256, $rows, $release, $fields, $created_at)
