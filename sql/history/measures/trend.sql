-- Every recorded figure over submissions, oldest first.
SELECT m.submission_id, r.id AS run_id, r.period, s.created_at, m.measure, m.grp,
       m.numerator, m.denominator, m.value
FROM measures m JOIN submissions s ON s.id = m.submission_id JOIN runs r ON r.id = s.run_id
WHERE r.status = 'ok' AND ($measure IS NULL OR m.measure = $measure)
  AND ($grp IS NULL OR m.grp = $grp)
ORDER BY m.submission_id, m.measure, m.grp
