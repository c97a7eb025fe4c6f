-- Outstanding NHS-number feedback items (open or conflict), oldest first; the NHS number is
-- masked but for its last 3 digits so a worker can tell items apart without the whole number.
SELECT i.id, i.person_id, '*******' || right(i.nhs_number_found, 3) AS nhs_number,
       i.match_basis, i.team_id, i.team_name, i.received_on,
       date_diff('day', i.received_on, $today::DATE) AS age_days, i.status
FROM feedback_items i
WHERE i.status IN ('open', 'conflict') AND ($team_id IS NULL OR i.team_id = $team_id)
ORDER BY i.received_on, i.id
