-- The rows a comparison across releases reads: the older submission translated (cmp_a_rows),
-- the newer one as stored.
CREATE OR REPLACE TEMP MACRO cmp_src(a, b) AS TABLE
    SELECT * FROM cmp_a_rows
    UNION ALL
    SELECT * FROM submission_rows WHERE submission_id = b
