-- History schema version 1: runs, the submissions they built, the CLD rows of each submission
-- and the findings of every run. Append-only: rows are only ever inserted, except the
-- submissions' sent-to-portal flag.
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
);

-- One row per run, written when the run ends (ok), or after its rollback (failed).
-- A killed run leaves no row at all.
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    kind            VARCHAR NOT NULL CHECK (kind IN ('build', 'check', 'nightly', 'feedback')),
    period          VARCHAR,
    release         VARCHAR,
    source          VARCHAR,          -- passwords stripped
    started_at      TIMESTAMP NOT NULL,
    ended_at        TIMESTAMP,
    status          VARCHAR NOT NULL CHECK (status IN ('ok', 'failed')),
    error           VARCHAR,          -- exception type only (messages may hold personal data)
    submissions     INTEGER NOT NULL DEFAULT 0,
    submission_rows BIGINT NOT NULL DEFAULT 0,
    findings        BIGINT NOT NULL DEFAULT 0,
    counts          VARCHAR,          -- JSON object of the stage's own row counts
    code_version    VARCHAR
);

CREATE TABLE submissions (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL,
    path           VARCHAR,
    sha256         VARCHAR,
    rows           BIGINT NOT NULL,
    release        VARCHAR,
    fields         VARCHAR,          -- JSON list: the CLD fields of the file, in order
    sent_to_portal BOOLEAN NOT NULL DEFAULT false,
    created_at     TIMESTAMP NOT NULL
);

-- The CLD rows of each submission, one column per CLD field (text as in the file; the union of
-- the fields of every release). DuckDB stores this column by column with dictionary and
-- constant compression, so the wide layout is also the compact one. A field a later release
-- adds is added as a column when first stored.
CREATE TABLE submission_rows (
    submission_id INTEGER NOT NULL,
    row_no        INTEGER NOT NULL,
    team_id       VARCHAR,
    team_name     VARCHAR,
    LA_Code VARCHAR, Reporting_Period_Start_Date VARCHAR, Reporting_Period_End_Date VARCHAR,
    NHS_Number VARCHAR, LA_Person_Unique_Identifier VARCHAR, First_Name VARCHAR,
    Last_Name VARCHAR, GP_Practice_Name VARCHAR, GP_Practice_Code VARCHAR, Gender VARCHAR,
    Ethnicity VARCHAR, Date_of_Birth VARCHAR, Date_of_Death VARCHAR, Client_Type VARCHAR,
    Primary_Support_Reason VARCHAR, Postcode VARCHAR, Accommodation_Status VARCHAR,
    Employment_Status VARCHAR, Has_Unpaid_Carer VARCHAR, Autism_Spectrum_Disorder_ASD VARCHAR,
    Visual_Impairment VARCHAR, Hearing_Impairment VARCHAR, Dementia VARCHAR,
    Client_Funding_Status VARCHAR, Event_Type VARCHAR, Event_Reference VARCHAR,
    Event_Start_Date VARCHAR, Event_End_Date VARCHAR, Event_Description VARCHAR,
    Event_Outcome VARCHAR, Request_Route_of_Access VARCHAR, Assessment_Type VARCHAR,
    Eligible_Needs_Identified VARCHAR, Method_of_Assessment VARCHAR,
    Total_Hrs_Caring_per_week VARCHAR, No_of_adults_being_cared_for VARCHAR,
    Adult_1_Linked_Person_ID VARCHAR, Adult_2_Linked_Person_ID VARCHAR,
    Adult_3_Linked_Person_ID VARCHAR, Service_Type VARCHAR, Service_Component VARCHAR,
    Delivery_Mechanism VARCHAR, Provider_CQC_Location_Name VARCHAR,
    Provider_CQC_Location_ID VARCHAR, Review_Reason VARCHAR, Review_Outcomes_Achieved VARCHAR,
    Method_of_Review VARCHAR, Unit_Cost VARCHAR, Cost_Frequency_Unit_Type VARCHAR,
    Planned_units_per_week VARCHAR
);

-- docs/contracts.md section 3, plus the run that found them.
CREATE TABLE findings (
    run_id      INTEGER NOT NULL,
    rule_id     VARCHAR NOT NULL,
    severity    VARCHAR,
    module      VARCHAR,
    category    VARCHAR,
    "row"       BIGINT,
    person_id   VARCHAR,
    event_ref   VARCHAR,
    event_type  VARCHAR,
    event_start VARCHAR,
    field       VARCHAR,
    value       VARCHAR,
    message     VARCHAR,
    how_to_fix  VARCHAR,
    team_id     VARCHAR,
    team_name   VARCHAR,
    worker_name VARCHAR,
    step_id     VARCHAR
);
