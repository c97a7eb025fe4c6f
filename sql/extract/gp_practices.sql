-- gp_practices: the GP practice reference list (ODS code and name), all rows.
SELECT g.practice_code, g.practice_name
FROM gp_practices g
