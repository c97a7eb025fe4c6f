-- Step 1 of a comparison: the rows of submissions $a (older) and $b (newer), each with its
-- national de-duplication key (rules.md 5.12), a hash of all its CLD fields but the reporting
-- period dates (which change every quarter), and a number among rows sharing its key.
--   Requests:    LA, person, start, end, client type, route of access
--   Assessments: the request key + Assessment_Type
--   Reviews:     LA, person, start, end, client type
--   Services:    LA, person, start, client type, Service_Type, Service_Component
--   other rows (carers known by association, no event type): LA, person, client type, dates
CREATE OR REPLACE TEMP TABLE cmp_rows AS
WITH r AS (
    SELECT
        CASE WHEN submission_id = $a THEN 'a' ELSE 'b' END AS side,
        row_no,
        team_id,
        team_name,
        Event_Type AS event_type,
        lower(coalesce(Event_Type, '')) AS event_kind,
        LA_Person_Unique_Identifier AS person_id,
        Event_Start_Date AS event_start,
        Event_End_Date AS event_end,
        Primary_Support_Reason AS primary_support_reason,
        Service_Type AS service_type,
        try_strptime(Event_Start_Date, $fmt)::DATE AS start_date,
        try_strptime(Event_End_Date, $fmt)::DATE AS end_date,
        try_strptime(Reporting_Period_Start_Date, $fmt)::DATE AS rp_start,
        try_strptime(Reporting_Period_End_Date, $fmt)::DATE AS rp_end,
        CASE lower(coalesce(Event_Type, ''))
            WHEN 'request' THEN concat_ws(chr(31),
                coalesce(LA_Code, ''), coalesce(LA_Person_Unique_Identifier, ''),
                coalesce(Event_Start_Date, ''), coalesce(Event_End_Date, ''),
                coalesce(Client_Type, ''), coalesce(Request_Route_of_Access, ''))
            WHEN 'assessment' THEN concat_ws(chr(31),
                coalesce(LA_Code, ''), coalesce(LA_Person_Unique_Identifier, ''),
                coalesce(Event_Start_Date, ''), coalesce(Event_End_Date, ''),
                coalesce(Client_Type, ''), coalesce(Request_Route_of_Access, ''),
                coalesce(Assessment_Type, ''))
            WHEN 'review' THEN concat_ws(chr(31),
                coalesce(LA_Code, ''), coalesce(LA_Person_Unique_Identifier, ''),
                coalesce(Event_Start_Date, ''), coalesce(Event_End_Date, ''),
                coalesce(Client_Type, ''))
            WHEN 'service' THEN concat_ws(chr(31),
                coalesce(LA_Code, ''), coalesce(LA_Person_Unique_Identifier, ''),
                coalesce(Event_Start_Date, ''), coalesce(Client_Type, ''),
                coalesce(Service_Type, ''), coalesce(Service_Component, ''))
            ELSE concat_ws(chr(31),
                coalesce(LA_Code, ''), coalesce(LA_Person_Unique_Identifier, ''),
                coalesce(Client_Type, ''), coalesce(Event_Start_Date, ''),
                coalesce(Event_End_Date, ''))
        END AS event_key,
        hash(*COLUMNS(* EXCLUDE (submission_id, row_no, team_id, team_name,
                                 Reporting_Period_Start_Date, Reporting_Period_End_Date)))
            AS row_hash
    FROM submission_rows
    WHERE submission_id IN ($a, $b)
)
SELECT *,
       row_number() OVER (PARTITION BY side, event_kind, event_key ORDER BY row_hash, row_no)
           AS dup_no
FROM r
