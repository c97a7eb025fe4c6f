-- persons: one row per person in scope (identity, dates of birth and death, gender, ethnicity).
SELECT p.person_id, p.nhs_number, p.first_name, p.last_name, p.date_of_birth,
       p.date_of_death, p.gender_code, p.ethnicity_code, p.created_on
FROM persons p
WHERE p.person_id IN (
    -- include: people_in_scope
)
