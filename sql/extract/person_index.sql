-- person_index: every person on the system, with only what provider-feed matching needs
-- (council id, NHS number, date of birth, gender). Not restricted to the period: a carer
-- supported only through the carers' centre may have no step or service of their own.
SELECT p.person_id, p.nhs_number, p.date_of_birth, p.gender_code
FROM persons p
