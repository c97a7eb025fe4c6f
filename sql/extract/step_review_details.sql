-- step_review_details: reason, method and outcomes of reviews.
SELECT d.step_id, d.review_reason_code, d.method_code, d.outcomes_code
FROM step_review_details d
WHERE d.step_id IN (
        -- include: steps_in_scope
)
