-- The waiting list over time: the last nightly run of each ISO week (or month), per figure
-- and team, summed over age groups.
WITH runs_in AS (
    SELECT w.run_id, w.as_at,
           CASE WHEN $grain = 'month' THEN date_trunc('month', w.as_at)
                ELSE date_trunc('week', w.as_at) END AS point
    FROM waiting_now w
    GROUP BY w.run_id, w.as_at
), last_of AS (
    SELECT point, max(run_id) AS run_id FROM runs_in GROUP BY point
)
SELECT l.point::DATE AS point, w.as_at, w.figure, coalesce(w.team_name, '(no team)') AS team,
       sum(w.count)::BIGINT AS count, max(w.max_days)::BIGINT AS max_days
FROM last_of l JOIN waiting_now w ON w.run_id = l.run_id
GROUP BY l.point, w.as_at, w.figure, coalesce(w.team_name, '(no team)')
ORDER BY point, figure, team
