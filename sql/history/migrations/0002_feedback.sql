-- History schema version 2: NHS-number matching feedback files and their items, and the time a
-- submission was marked as the one sent to the portal.
ALTER TABLE submissions ADD COLUMN sent_at TIMESTAMP;

CREATE TABLE feedback_files (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL,
    path        VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    received_on DATE NOT NULL,
    rows        BIGINT NOT NULL,
    accepted    BIGINT NOT NULL,
    rejected    BIGINT NOT NULL,
    status      VARCHAR NOT NULL CHECK (status IN ('accepted', 'quarantined')),
    reason      VARCHAR
);

-- One row per NHS number found for a person. status moves open -> resolved | conflict (and
-- conflict -> resolved) as later extracts show what the case record holds.
CREATE TABLE feedback_items (
    id               INTEGER PRIMARY KEY,
    feedback_file_id INTEGER NOT NULL,
    run_id           INTEGER NOT NULL,
    line             INTEGER NOT NULL,
    person_id        VARCHAR NOT NULL,
    nhs_number_found VARCHAR NOT NULL,
    match_basis      VARCHAR,
    traced_on        DATE,
    received_on      DATE NOT NULL,
    team_id          VARCHAR,
    team_name        VARCHAR,
    status           VARCHAR NOT NULL CHECK (status IN ('open', 'resolved', 'conflict')),
    checked_in_run   INTEGER,
    resolved_on      DATE,
    resolved_in_run  INTEGER
);
