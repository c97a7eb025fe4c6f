-- History schema version 5: the SALT and ASCOF preview figures of each recorded submission
-- (docs/measures.md), and who is behind each figure as a one-way hash of the national person
-- key, so the change since the previous submission can be told in people without keeping
-- anyone's identifier here a second time.
CREATE TABLE measures (
    run_id        INTEGER NOT NULL,
    submission_id INTEGER NOT NULL,
    measure       VARCHAR NOT NULL,
    grp           VARCHAR NOT NULL,
    numerator     BIGINT NOT NULL,
    denominator   BIGINT,
    value         DOUBLE,
    PRIMARY KEY (submission_id, measure, grp)
);

CREATE TABLE measure_people (
    submission_id  INTEGER NOT NULL,
    measure        VARCHAR NOT NULL,
    grp            VARCHAR NOT NULL,
    person_hash    UBIGINT NOT NULL,
    in_numerator   BOOLEAN,
    in_denominator BOOLEAN
);
