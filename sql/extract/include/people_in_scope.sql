-- people_in_scope: the person_ids an extract query keeps, included where a query says
-- `-- include: people_in_scope` (inside `person_id IN ( ... )`). Widen or narrow the scope here,
-- once, for every query that uses it.
-- People in scope: anyone with a workflow step or service agreement that touches
-- [:lookback_start, :period_end], the cared-for person named on a carer's service, and both
-- sides of a carer relationship that overlaps that window (carers known by association,
-- linked cared-for people). Every row of their history is kept: the transform picks the
-- latest value known in the period.
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
