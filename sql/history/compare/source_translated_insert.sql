-- _new_rows: the older submission's rows, translated by pipelines.history.compare; hashed
-- exactly as sql/history/insert_submission_rows.sql hashes stored rows.
INSERT INTO cmp_a_rows BY NAME
WITH r AS (
    SELECT * EXCLUDE (event_key, row_hash) FROM submission_rows WHERE false
    UNION ALL BY NAME
    SELECT $submission_id::INTEGER AS submission_id, * FROM _new_rows
)
SELECT *,
       cld_event_key(Event_Type, LA_Code, LA_Person_Unique_Identifier, Event_Start_Date,
                     Event_End_Date, Client_Type, Request_Route_of_Access, Assessment_Type,
                     Service_Type, Service_Component) AS event_key,
       hash(*COLUMNS(* EXCLUDE (submission_id, row_no, team_id, team_name,
                                Reporting_Period_Start_Date, Reporting_Period_End_Date)))
           AS row_hash
FROM r
