-- The registered frame _new_waiting (pipelines.cqc.trend.waiting_rows) into waiting_now.
INSERT INTO waiting_now BY NAME
SELECT $run_id::INTEGER AS run_id, as_at, figure, team_id, team_name, age_group, count,
       median_days, p90_days, max_days
FROM _new_waiting
