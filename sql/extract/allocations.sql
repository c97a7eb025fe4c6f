-- allocations: which team and worker owned each person in scope, over time.
SELECT t.allocation_id, t.person_id, t.team_id, t.worker_id, t.start_date, t.end_date
FROM allocations t
WHERE t.person_id IN (
    -- include: people_in_scope
)
