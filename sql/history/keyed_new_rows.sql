-- _new_rows: a submission frame registered by the caller (row_no, team_id, team_name, fields),
-- with its event key and field hash, ready for `INSERT INTO <rows table> BY NAME`. It is first
-- widened to the submission_rows shape (UNION ALL BY NAME with the empty table), so the field
-- hash covers the same columns, in the same order, whatever release the file is. Used for
-- stored submissions and for the translated older side of a comparison, so both hash alike.
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
