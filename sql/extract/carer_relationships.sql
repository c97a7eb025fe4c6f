-- carer_relationships: carer <-> cared-for links that overlap [:lookback_start, :period_end].
SELECT r.relationship_id, r.carer_person_id, r.cared_for_person_id, r.start_date, r.end_date,
       r.hours_caring_code
FROM carer_relationships r
WHERE r.start_date <= :period_end
  AND (r.end_date IS NULL OR r.end_date >= :lookback_start)
