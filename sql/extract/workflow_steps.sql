-- workflow_steps: every step (contact, assessment, review, ...) that was open or completed at
-- any time in [:lookback_start, :period_end], plus the steps those followed from
-- (previous_step_id) and the steps that set up the service agreements in that window
-- (source_step_id). Cancelled, in-error and out-of-scope steps are kept: the transform
-- applies the inclusion rules and reports what it left out.
SELECT s.step_id, s.person_id, s.step_type_code, s.status_code, s.started_on, s.completed_on,
       s.outcome_code, s.worker_id, s.team_id, s.previous_step_id, s.is_carer_step
FROM workflow_steps s
WHERE s.step_id IN (
        -- include: steps_in_scope
)
