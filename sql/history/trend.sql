-- Findings per rule and team for every finished run (DQ trend), oldest run first.
SELECT r.id AS run_id, r.kind, r.period, r.started_at, f.rule_id, f.severity,
       f.team_id, f.team_name, count(*) AS findings
FROM findings f JOIN runs r ON r.id = f.run_id
WHERE r.status = 'ok' AND ($team_id IS NULL OR f.team_id = $team_id)
GROUP BY ALL
ORDER BY r.id, f.team_id NULLS FIRST, f.rule_id
