-- An empty copy of submission_rows for the older submission's rows translated to the newer
-- submission's release.
CREATE OR REPLACE TEMP TABLE cmp_a_rows AS SELECT * FROM submission_rows WHERE false
