-- Who is behind each figure of one submission, as hashes (registered frame _new_people).
INSERT INTO measure_people
SELECT $submission_id, measure, grp, hash(person), bool_or(in_numerator), bool_or(in_denominator)
FROM _new_people
GROUP BY ALL
