-- Each figure of submission $b beside the same figure of submission $a, with the number of
-- people behind the change: people who joined or left the numerator or the denominator.
WITH cur AS (SELECT * FROM measures WHERE submission_id = $b),
     prev AS (SELECT * FROM measures WHERE submission_id = $a),
     pa AS (SELECT * FROM measure_people WHERE submission_id = $a),
     pb AS (SELECT * FROM measure_people WHERE submission_id = $b),
     moved AS (
        SELECT coalesce(pa.measure, pb.measure) AS measure, coalesce(pa.grp, pb.grp) AS grp,
               count(*) FILTER (WHERE coalesce(pa.in_numerator, false)
                                      IS DISTINCT FROM coalesce(pb.in_numerator, false)
                                   OR coalesce(pa.in_denominator, false)
                                      IS DISTINCT FROM coalesce(pb.in_denominator, false))
                   AS people_changed,
               count(*) FILTER (WHERE pa.person_hash IS NULL) AS people_new,
               count(*) FILTER (WHERE pb.person_hash IS NULL) AS people_gone
        FROM pa FULL JOIN pb
          ON pa.measure = pb.measure AND pa.grp = pb.grp AND pa.person_hash = pb.person_hash
        GROUP BY ALL
     )
SELECT cur.measure, cur.grp, cur.numerator, cur.denominator, cur.value,
       prev.numerator AS prev_numerator, prev.denominator AS prev_denominator,
       prev.value AS prev_value, cur.value - prev.value AS change,
       coalesce(moved.people_changed, 0) AS people_changed,
       coalesce(moved.people_new, 0) AS people_new, coalesce(moved.people_gone, 0) AS people_gone
FROM cur
LEFT JOIN prev ON prev.measure = cur.measure AND prev.grp = cur.grp
LEFT JOIN moved ON moved.measure = cur.measure AND moved.grp = cur.grp
ORDER BY cur.measure, cur.grp
