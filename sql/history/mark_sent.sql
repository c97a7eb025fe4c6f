UPDATE submissions SET sent_to_portal = true, sent_at = $at WHERE id = $id
