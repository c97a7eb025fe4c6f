-- service_agreements: every service line that was active at any time in
-- [:lookback_start, :period_end] (started by the period end, not ended before the window).
-- Cancelled, in-error and suspended lines are kept: the transform decides.
SELECT a.agreement_id, a.person_id, a.service_code, a.provider_id, a.delivery_code,
       a.status_code, a.start_date, a.end_date, a.suspended_on, a.end_reason_code,
       a.unit_cost, a.cost_frequency_code, a.planned_units_per_week, a.for_carer,
       a.cared_for_person_id, a.source_step_id
FROM service_agreements a
WHERE a.start_date <= :period_end
  AND (a.end_date IS NULL OR a.end_date >= :lookback_start)
