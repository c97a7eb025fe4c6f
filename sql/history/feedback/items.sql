-- Every NHS-number feedback item of one team (or all), with action_needed: true while the
-- team must act (open: the record holds no number yet; conflict: it holds another one),
-- false once the council's record holds the number found (resolved). The number is masked
-- but for its last 3 digits (outputs that show it whole read it for the team's own list).
SELECT i.id, i.person_id, '*******' || right(i.nhs_number_found, 3) AS nhs_number,
       i.match_basis, i.team_id, i.team_name, i.received_on,
       date_diff('day', i.received_on, $today::DATE) AS age_days, i.status,
       i.status IN ('open', 'conflict') AS action_needed
FROM feedback_items i
WHERE ($team_id IS NULL OR i.team_id = $team_id)
ORDER BY i.received_on, i.id
