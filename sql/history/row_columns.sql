SELECT column_name FROM information_schema.columns
WHERE table_name = 'submission_rows' AND table_schema = 'main'
ORDER BY ordinal_position
