-- steps_in_scope: the step_ids in scope, written once: included (inside `step_id IN ( ... )`) by
-- workflow_steps.sql and the three step-detail queries where they say `-- include: steps_in_scope`.
-- A step is in scope when it was open or completed at any time in [:lookback_start, :period_end],
-- or another such step followed from it (previous_step_id), or it set up a service agreement in
-- that window (source_step_id).
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
