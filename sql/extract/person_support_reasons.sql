-- person_support_reasons: primary support reason history of the people in scope.
SELECT t.psr_id, t.person_id, t.psr_code, t.start_date
FROM person_support_reasons t
WHERE t.person_id IN (
    -- include: people_in_scope
)
