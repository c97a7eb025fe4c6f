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
    SELECT s.person_id FROM workflow_steps s
    WHERE s.started_on <= :period_end
      AND (s.completed_on IS NULL OR s.completed_on >= :lookback_start)
    UNION
    SELECT a.person_id FROM service_agreements a
    WHERE a.start_date <= :period_end
      AND (a.end_date IS NULL OR a.end_date >= :lookback_start)
    UNION
    SELECT a.cared_for_person_id FROM service_agreements a
    WHERE a.cared_for_person_id IS NOT NULL
      AND a.start_date <= :period_end
      AND (a.end_date IS NULL OR a.end_date >= :lookback_start)
    UNION
    SELECT r.carer_person_id FROM carer_relationships r
    WHERE r.start_date <= :period_end
      AND (r.end_date IS NULL OR r.end_date >= :lookback_start)
    UNION
    SELECT r.cared_for_person_id FROM carer_relationships r
    WHERE r.start_date <= :period_end
      AND (r.end_date IS NULL OR r.end_date >= :lookback_start)
)
