-- financial_assessments: every completed financial assessment (an assessment step with a
-- funding status) up to :period_end of the people in scope, however old: Client_Funding_Status
-- comes from the latest one, often years before the period's own steps.
-- 'COMP' is the sample's local "completed" status code: use your own.
SELECT f.person_id, f.step_id, f.completed_on, d.funding_status_code
FROM workflow_steps f
INNER JOIN step_assessment_details d ON d.step_id = f.step_id
WHERE d.funding_status_code IS NOT NULL
  AND f.status_code = 'COMP'
  AND f.completed_on IS NOT NULL
  AND f.completed_on <= :period_end
  AND f.person_id IN (
    -- include: people_in_scope
)
