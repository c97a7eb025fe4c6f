-- Findings per rule and team for every finished run (DQ trend), oldest run first; fixes
-- counts what a worker must fix: one per person and field (however many of the person's
-- rows show it), file-level findings one each.
SELECT r.id AS run_id, r.kind, r.period, r.started_at, f.rule_id, f.severity,
       f.team_id, f.team_name, count(*) AS findings,
       count(DISTINCT CASE WHEN f.person_id IS NOT NULL
                           THEN f.person_id || chr(31) || coalesce(f.field, '') END)
         + count(*) FILTER (WHERE f.person_id IS NULL) AS fixes
FROM findings f JOIN runs r ON r.id = f.run_id
WHERE r.status = 'ok' AND ($team_id IS NULL OR f.team_id = $team_id)
GROUP BY ALL
ORDER BY r.id, f.team_id NULLS FIRST, f.rule_id
