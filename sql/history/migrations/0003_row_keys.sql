-- History schema version 3: every stored row carries a 64-bit hash of its national
-- de-duplication key (rules.md 5.12) and a hash of its CLD fields, computed once when it is
-- stored, so a comparison only reads them (the costly part of comparing England-size files).
ALTER TABLE submission_rows ADD COLUMN event_key UBIGINT;
ALTER TABLE submission_rows ADD COLUMN row_hash UBIGINT;

-- The de-duplication key of a row, per event type:
--   Requests:    LA, person, start, end, client type, route of access
--   Assessments: the request key + Assessment_Type
--   Reviews:     LA, person, start, end, client type
--   Services:    LA, person, start, client type, Service_Type, Service_Component
--   other rows (carers known by association, no event type): LA, person, client type, dates
CREATE OR REPLACE MACRO cld_event_key(event_type, la, person, start_date, end_date, client,
                                      route, assessment_type, service_type, component) AS
    CASE lower(coalesce(event_type, ''))
        WHEN 'request' THEN hash('R', la, person, start_date, end_date, client, route)
        WHEN 'assessment' THEN
            hash('A', la, person, start_date, end_date, client, route, assessment_type)
        WHEN 'review' THEN hash('V', la, person, start_date, end_date, client)
        WHEN 'service' THEN
            hash('S', la, person, start_date, client, service_type, component)
        ELSE hash('O', la, person, client, start_date, end_date)
    END;

-- Rows stored before version 3 get their hashes now (same text as sql/history/rehash_rows.sql).
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
