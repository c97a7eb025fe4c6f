-- person_employment: employment status history of the people in scope.
SELECT t.employment_id, t.person_id, t.employment_code, t.start_date
FROM person_employment t
WHERE t.person_id IN (
    -- include: people_in_scope
)
