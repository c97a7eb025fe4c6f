-- The reporting window, people and rows of each side of a comparison.
SELECT side, min(rp_start) AS period_start, max(rp_end) AS period_end,
       count(DISTINCT person_id) AS people, count(*) AS rows
FROM cmp_rows
GROUP BY side
ORDER BY side
