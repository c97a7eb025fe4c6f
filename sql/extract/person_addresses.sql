-- person_addresses: address history (postcode, accommodation) of the people in scope.
SELECT t.address_id, t.person_id, t.postcode, t.accommodation_code, t.start_date, t.end_date
FROM person_addresses t
WHERE t.person_id IN (
    -- include: people_in_scope
)
