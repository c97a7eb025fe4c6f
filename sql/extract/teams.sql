-- teams: all teams (owning team on each CLD row, exception lists per team).
SELECT t.team_id, t.team_name, t.service_area
FROM teams t
