-- Is this file (path and content digest) a recorded submission? (settling a placement)
SELECT id FROM submissions WHERE path = $path AND sha256 = $sha LIMIT 1
