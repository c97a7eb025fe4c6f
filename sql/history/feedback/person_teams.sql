-- Per person in submission $id: the owning team and the NHS number on their most recent row
-- (by Event_Start_Date, text in the spec's ISO date format) that has one.
SELECT LA_Person_Unique_Identifier AS person_id,
       arg_max(team_id, coalesce(Event_Start_Date, '')) FILTER (WHERE team_id IS NOT NULL)
           AS team_id,
       arg_max(team_name, coalesce(Event_Start_Date, '')) FILTER (WHERE team_id IS NOT NULL)
           AS team_name,
       arg_max(NHS_Number, coalesce(Event_Start_Date, '')) FILTER (WHERE NHS_Number IS NOT NULL)
           AS nhs_number
FROM submission_rows
WHERE submission_id = $id AND LA_Person_Unique_Identifier IS NOT NULL
GROUP BY LA_Person_Unique_Identifier
