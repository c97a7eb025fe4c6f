-- The NHS number found for each feedback item a team must act on (open or conflict), in
-- full: read only to put it in the owning team's own exception list, never printed, logged
-- or returned from a flow.
SELECT i.id, i.nhs_number_found
FROM feedback_items i
WHERE i.status IN ('open', 'conflict') AND ($team_id IS NULL OR i.team_id = $team_id)
ORDER BY i.id
