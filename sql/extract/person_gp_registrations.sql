-- person_gp_registrations: GP registration history of the people in scope.
SELECT t.registration_id, t.person_id, t.practice_code, t.start_date, t.end_date
FROM person_gp_registrations t
WHERE t.person_id IN (
    -- include: people_in_scope
)
