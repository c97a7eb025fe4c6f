-- steps_in_scope: the step_ids that workflow_steps.sql returns (same conditions), included by
-- the step-detail queries where they say `-- include: steps_in_scope` (inside `step_id IN ( ... )`).
SELECT s.step_id FROM workflow_steps s
WHERE (s.started_on <= :period_end
       AND (s.completed_on IS NULL OR s.completed_on >= :lookback_start))
   OR s.step_id IN (
        SELECT w.previous_step_id FROM workflow_steps w
        WHERE w.started_on <= :period_end
          AND (w.completed_on IS NULL OR w.completed_on >= :lookback_start))
   OR s.step_id IN (
        SELECT a.source_step_id FROM service_agreements a
        WHERE a.start_date <= :period_end
          AND (a.end_date IS NULL OR a.end_date >= :lookback_start))
