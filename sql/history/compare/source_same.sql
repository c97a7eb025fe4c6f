-- The rows a comparison reads: both submissions as stored.
CREATE OR REPLACE TEMP MACRO cmp_src(a, b) AS TABLE
    SELECT * FROM submission_rows WHERE submission_id IN (a, b)
