-- The figures of one submission (registered frame _new_measures).
INSERT INTO measures SELECT $run_id, $submission_id, measure, grp, numerator, denominator, value
FROM _new_measures
