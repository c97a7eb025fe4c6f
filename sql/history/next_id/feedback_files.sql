-- The next id of feedback_files (runs write under the history lock, so max + 1 is safe).
SELECT coalesce(max(id), 0) + 1 FROM feedback_files
