-- step_contact_details: how each contact (request) came in.
SELECT d.step_id, d.route_code, d.contact_source, d.description
FROM step_contact_details d
WHERE d.step_id IN (
        -- include: steps_in_scope
)
