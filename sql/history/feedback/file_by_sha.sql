-- A feedback file already taken in (same contents), so it is not counted twice.
SELECT id, received_on FROM feedback_files WHERE sha256 = $sha AND status = 'accepted'
