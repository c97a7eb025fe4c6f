-- step_assessment_details: eligibility, method and funding status of assessments.
SELECT d.step_id, d.eligible_code, d.method_code, d.funding_status_code
FROM step_assessment_details d
WHERE d.step_id IN (
        -- include: steps_in_scope
)
