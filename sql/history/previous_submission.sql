-- The submission a build of quarter $period is compared with: an earlier submission of the
-- same quarter (a resubmission), else one of the nearest earlier quarter (normally the quarter
-- before); never a later quarter. Within that quarter, the one sent to the portal, else the
-- newest. $period NULL: any quarter (sent, else newest). $before: only submissions older than
-- submission $before (as history stood when it was built). Period labels (2025-26Q4) sort
-- in time order as text.
SELECT s.id
FROM submissions s JOIN runs r ON r.id = s.run_id
WHERE r.status = 'ok'
  AND ($period IS NULL OR r.period <= $period)
  AND ($before IS NULL OR s.id < $before)
ORDER BY CASE WHEN $period IS NULL THEN '' ELSE r.period END DESC,
         s.sent_to_portal DESC, s.id DESC
LIMIT 1
