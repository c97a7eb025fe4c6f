-- The reporting window, people and rows of each side of a comparison.
SELECT CASE WHEN submission_id = $a THEN 'a' ELSE 'b' END AS side,
       min(try_strptime(Reporting_Period_Start_Date, $fmt))::DATE AS period_start,
       max(try_strptime(Reporting_Period_End_Date, $fmt))::DATE AS period_end,
       count(DISTINCT LA_Person_Unique_Identifier) AS people,
       count(*) AS rows
FROM cmp_src($a, $b)
WHERE submission_id IN ($a, $b)
GROUP BY ALL
ORDER BY side
