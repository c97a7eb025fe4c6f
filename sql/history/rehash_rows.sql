-- Recompute every stored row's hashes: run when a new field column is added (a new release),
-- because the field hash covers every field column. Same text as in migration 0003.
CREATE OR REPLACE TEMP TABLE _row_keys AS
SELECT submission_id, row_no,
       cld_event_key(Event_Type, LA_Code, LA_Person_Unique_Identifier, Event_Start_Date,
                     Event_End_Date, Client_Type, Request_Route_of_Access, Assessment_Type,
                     Service_Type, Service_Component) AS event_key,
       hash(*COLUMNS(* EXCLUDE (submission_id, row_no, team_id, team_name, event_key, row_hash,
                                Reporting_Period_Start_Date, Reporting_Period_End_Date)))
           AS row_hash
FROM submission_rows;
UPDATE submission_rows AS s
SET event_key = k.event_key, row_hash = k.row_hash
FROM _row_keys AS k
WHERE s.submission_id = k.submission_id AND s.row_no = k.row_no;
DROP TABLE _row_keys;
