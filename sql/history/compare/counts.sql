-- Counts of rows on each side by:
--   month: event type x month. Requests, assessments and reviews count in the month of
--          Event_End_Date; services count in every month they were active within their
--          file's reporting period (start to end, or to the period end while open).
--   primary_support_reason, team: per event type; service_type: service rows.
WITH r AS (
    SELECT CASE WHEN submission_id = $a THEN 'a' ELSE 'b' END AS side,
           coalesce(Event_Type, CASE WHEN Client_Type ILIKE '%known by association%' THEN 'Unpaid carer known by association (no event)' END) AS event_type,
           lower(coalesce(Event_Type, '')) AS event_kind,
           Primary_Support_Reason AS primary_support_reason,
           Service_Type AS service_type,
           coalesce(team_name, team_id) AS team,
           try_strptime(Event_Start_Date, $fmt)::DATE AS start_date,
           try_strptime(Event_End_Date, $fmt)::DATE AS end_date,
           try_strptime(Reporting_Period_Start_Date, $fmt)::DATE AS rp_start,
           try_strptime(Reporting_Period_End_Date, $fmt)::DATE AS rp_end
    FROM cmp_src($a, $b)
    WHERE submission_id IN ($a, $b)
),
months AS (
    SELECT side, event_type, strftime(end_date, '%Y-%m') AS value
    FROM r
    WHERE event_kind IN ('request', 'assessment', 'review')
    UNION ALL
    SELECT side, event_type, strftime(m, '%Y-%m') AS value
    FROM (
        SELECT side, event_type,
               unnest(generate_series(
                   date_trunc('month', greatest(start_date, rp_start)),
                   date_trunc('month', least(coalesce(end_date, rp_end), rp_end)),
                   INTERVAL 1 MONTH)) AS m
        FROM r
        WHERE event_kind = 'service' AND start_date IS NOT NULL
    )
),
counted AS (
    SELECT 'month' AS dimension, event_type, value,
           count(*) FILTER (WHERE side = 'a') AS count_a,
           count(*) FILTER (WHERE side = 'b') AS count_b
    FROM months GROUP BY ALL
    UNION ALL
    SELECT 'primary_support_reason', event_type, primary_support_reason,
           count(*) FILTER (WHERE side = 'a'), count(*) FILTER (WHERE side = 'b')
    FROM r GROUP BY ALL
    UNION ALL
    SELECT 'service_type', event_type, service_type,
           count(*) FILTER (WHERE side = 'a'), count(*) FILTER (WHERE side = 'b')
    FROM r WHERE event_kind = 'service' GROUP BY ALL
    UNION ALL
    SELECT 'team', event_type, team,
           count(*) FILTER (WHERE side = 'a'), count(*) FILTER (WHERE side = 'b')
    FROM r GROUP BY ALL
)
SELECT dimension, coalesce(event_type, '(no event type)') AS event_type,
       coalesce(value, '(blank)') AS value, count_a, count_b
FROM counted
ORDER BY dimension, event_type, value
