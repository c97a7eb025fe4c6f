-- Follow open (and conflicting) items against the persons of an extract (_persons:
-- person_id, nhs_number). Holding the number found resolves the item; holding only other
-- numbers is a conflict; no number at all leaves it as it was.
UPDATE feedback_items AS i
SET status = CASE WHEN p.holds_found THEN 'resolved' ELSE 'conflict' END,
    checked_in_run = $run_id,
    resolved_on = CASE WHEN p.holds_found THEN $today::DATE END,
    resolved_in_run = CASE WHEN p.holds_found THEN $run_id::INTEGER END
FROM (
    SELECT it.id, bool_or(n.nhs_number = it.nhs_number_found) AS holds_found
    FROM feedback_items AS it
    JOIN _persons AS n ON n.person_id = it.person_id
    WHERE it.status IN ('open', 'conflict') AND n.nhs_number IS NOT NULL AND n.nhs_number <> ''
    GROUP BY it.id
) AS p
WHERE i.id = p.id
