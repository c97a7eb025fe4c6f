-- person_conditions: disability / condition flags (autism, sight, hearing, dementia) of the people in scope.
SELECT t.condition_id, t.person_id, t.condition_code, t.recorded_on
FROM person_conditions t
WHERE t.person_id IN (
    -- include: people_in_scope
)
