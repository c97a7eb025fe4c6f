-- History schema version 4: the waiting-now figures of the CQC pack (W1-W5, pipelines/cqc),
-- recorded by each nightly run, so the pack and the DQ report show the waiting list over time
-- by team. Counts and days only: no person is stored.
CREATE TABLE waiting_now (
    run_id      INTEGER NOT NULL,
    as_at       DATE NOT NULL,
    figure      VARCHAR NOT NULL,   -- W1 .. W5
    team_id     VARCHAR,
    team_name   VARCHAR,
    age_group   VARCHAR,
    count       BIGINT NOT NULL,
    median_days DOUBLE,
    p90_days    DOUBLE,
    max_days    BIGINT
);
CREATE INDEX ix_waiting_now_run ON waiting_now (run_id);
