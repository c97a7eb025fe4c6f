"""SALT STS001/STS002a/STS002b, LTS001a/b/c, LTS003 and LTS004 on hand-built files, worked out
by hand from NHS England's replication code
(NHSDigital/ASC-Client-Level-Data-SALT-ASCOF-transformations @ d6ff762)."""

from __future__ import annotations

from pipelines.period import Period
from tests.measures.conftest import fig, measure_file, request, row, service, stmax, write_file

COMM = "LONG_TERM_COMMUNITY"


def test_sts_requests_sequels_and_st_max(tmp_path, fmt):
    rows = [
        # S1: request -> ST-Max two days later -> nothing: STS001 sequel ST-Max; STS002a no
        # further chronology, 'service ended as planned' -> 'No services provided – other'
        request("S1", "2025-05-01", "2025-05-03", eo="PROGRESS_TO_REABLEMENT"),
        stmax("S1", "2025-05-05", "2025-05-25"),
        # S2 (18-64): request -> ST-Max -> long-term support 2 days after: STS001 ranks ST-Max
        # first; STS002a: long-term support
        request("S2", "2025-06-01", "2025-06-02", eo="PROGRESS_TO_REABLEMENT", dob="1980-01-01"),
        stmax("S2", "2025-06-03", "2025-06-20", dob="1980-01-01"),
        service("S2", COMM, "2025-06-22", dob="1980-01-01"),
        # S3: request -> ST-Max -> a new request (information and advice) 2 days after. The
        # new request is a request of its own; it is STS002a's sequel (NFA, record type 3)
        request("S3", "2025-07-01", "2025-07-02", eo="PROGRESS_TO_REABLEMENT"),
        stmax("S3", "2025-07-03", "2025-07-20"),
        request("S3", "2025-07-22", "2025-07-23", eo="NFA_INFORMATION_ADVICE"),
        # S4: in long-term support already: not a new client (STS001), its ST-Max is STS002b's
        service("S4", COMM, "2024-01-01"),
        request("S4", "2025-08-01", "2025-08-02"),
        stmax("S4", "2025-08-05", "2025-08-25"),
        # S5: two requests 3 days apart are one request; the last one's outcome counts
        # (without the clustering: two requests)
        request("S5", "2025-09-01", "2025-09-02", eo="PROGRESS_TO_SUPPORT_PLANNING"),
        request("S5", "2025-09-05", "2025-09-06", eo="NFA_SUPPORT_DECLINED"),
        # S6: aged 16: in the STS001 total (the script does not filter ages), in no age band
        request("S6", "2025-10-01", "2025-10-02", eo="NFA_INFORMATION_ADVICE", dob="2009-01-01"),
        # S8: still open (ends 'today', after the period): not a request of this year
        request("S8", "2026-03-30", None),
    ]
    run = measure_file(write_file(tmp_path / "f.csv", rows, *fmt))
    assert fig(run, "SALT_STS001", "Total") == (6, None, 6.0)  # S1 S2 S3 S3' S5 S6
    assert fig(run, "SALT_STS001", "18-64")[0] == 1  # S2
    assert fig(run, "SALT_STS001", "65+")[0] == 4
    assert fig(run, "SALT_STS001", "sequel: Short Term Support: ST-Max")[0] == 3
    assert (
        fig(
            run,
            "SALT_STS001",
            "sequel: No_Chronology_Universal Services/ Signposted to other services",
        )[0]
        == 2
    )
    assert (
        fig(run, "SALT_STS001", "sequel: No_Chronology_No Services Provided - other reason")[0] == 1
    )
    assert fig(run, "SALT_STS002A", "Total")[0] == 3  # S1 S2 S3
    assert fig(run, "SALT_STS002A", "sequel: Long Term Support (any setting)")[0] == 1
    assert fig(run, "SALT_STS002A", "sequel: No services provided – other")[0] == 1
    assert (
        fig(
            run,
            "SALT_STS002A",
            "sequel: No Services Provided – Universal Services / signposted to other services",
        )[0]
        == 1
    )
    assert fig(run, "SALT_STS002B", "Total")[0] == 1  # S4


def test_sts001_year_to_date(tmp_path):
    # SALT counts the financial year to date: in 2025-26 Q2 a May request counts, a March one
    # (in the rolling 12 months, before 1 April) does not
    q2 = Period.parse("2025-26Q2")
    rows = [
        request("Y1", "2025-05-01", "2025-05-02", eo="NFA_INFORMATION_ADVICE"),
        request("Y2", "2025-03-01", "2025-03-02", eo="NFA_INFORMATION_ADVICE"),
    ]
    run = measure_file(write_file(tmp_path / "f.csv", rows, period=q2), q2)
    assert fig(run, "SALT_STS001", "Total")[0] == 1


def test_lts001_settings_psr_ages_deaths(tmp_path, fmt):
    rows = [
        service("L1", COMM, "2024-01-01", dm="DIRECT_PAYMENT", dob="1980-01-01"),
        # nursing outranks community for the same person
        service("L2", COMM, "2025-01-01", "2025-05-31"),
        service("L2", "LONG_TERM_NURSING", "2025-06-01"),
        # ended in the year: LTS001a only
        service("L3", COMM, "2025-05-01", "2025-08-01"),
        # two PSRs on rows of the same start: conflict -> Unknown
        service("L4", COMM, "2025-02-01", psr="MENTAL_HEALTH"),
        service("L4", COMM, "2025-02-01", psr="LEARNING_DISABILITY"),
        # a known PSR beats a later Unknown one (else: Unknown)
        service("L5", COMM, "2025-01-01", psr="MEMORY_COGNITION"),
        service("L5", COMM, "2025-09-01", psr="UNKNOWN"),
        # ages at 31 March 2026 from the 1st of the birth month: 18 / 17 / 65 / 64
        service("L6a", COMM, "2025-06-01", dob="2008-03-25"),
        service("L6b", COMM, "2025-06-01", dob="2008-04-02"),
        service("L6c", COMM, "2025-06-01", dob="1961-03-30"),
        service("L6d", COMM, "2025-06-01", dob="1961-04-01"),
        # died before the snapshot: in the year, not at its end
        service("L7", COMM, "2025-01-01", dod="2026-02-01"),
        # no date of birth: NHS England drops the row
        service("L9", COMM, "2025-01-01", dob=None),
    ]
    run = measure_file(write_file(tmp_path / "f.csv", rows, *fmt))
    assert fig(run, "SALT_LTS001A", "18-64")[0] == 3  # L1 L6a L6d
    assert fig(run, "SALT_LTS001A", "65+")[0] == 6  # L2 L3 L4 L5 L6c L7
    assert fig(run, "SALT_LTS001A", "Total")[0] == 9
    assert fig(run, "SALT_LTS001A", "setting: Nursing")[0] == 1
    assert fig(run, "SALT_LTS001A", "setting: Community: Direct Payment")[0] == 1
    assert fig(run, "SALT_LTS001A", "PSR: Unknown")[0] == 1  # L4
    assert fig(run, "SALT_LTS001A", "PSR: Support with Memory & Cognition")[0] == 1  # L5
    assert fig(run, "SALT_LTS001B", "Total")[0] == 7  # not L3 (ended), not L7 (died)
    # more than 12 months at the snapshot: chains from before 31 March 2025 (1-day gaps join)
    assert fig(run, "SALT_LTS001C", "18-64")[0] == 1  # L1
    assert fig(run, "SALT_LTS001C", "65+")[0] == 3  # L2 (community then nursing), L4, L5
    # DHSC keeps the person without a birth date (unknown age) through to the figures, where
    # 2E leaves the Unknown band out: 9 people with a known age 18+ (not L6b, 17; not L9)
    assert fig(run, "ASCOF_2E", "Total")[1] == 9
    people = run.results["ASCOF_2E"].people
    assert people.filter(people["group"] == "Unknown").height == 1  # L9


def test_lts004_latest_start_then_known(tmp_path, fmt):
    ld = {"psr": "LEARNING_DISABILITY"}
    rows = [
        service("W1", COMM, "2025-01-01", dob="1990-01-01", employ="PAID_16_PLUS", **ld),
        # NHS England takes the latest start first: the later Unknown wins over the earlier
        # known status (DHSC's person details do the opposite: see ASCOF 2E LD below)
        service(
            "W2",
            COMM,
            "2025-01-01",
            dob="1992-01-01",
            employ="NOT_PAID_SEEKING",
            accom="TENANT_PRIVATE_LANDLORD",
            **ld,
        ),
        service(
            "W2", COMM, "2025-06-01", dob="1992-01-01", employ="UNKNOWN", accom="UNKNOWN", **ld
        ),
        service("W3", COMM, "2025-01-01", employ="PAID_16_PLUS", **ld),  # 75: not 18-64
        # same start: known beats Unknown
        service(
            "W4",
            COMM,
            "2025-03-01",
            dob="1995-01-01",
            employ="PAID_LT16",
            accom="REGISTERED_CARE_HOME",
            **ld,
        ),
        service(
            "W4",
            COMM,
            "2025-03-01",
            dob="1995-01-01",
            employ="UNKNOWN",
            accom="REGISTERED_CARE_HOME",
            **ld,
        ),
        service("W5", COMM, "2025-01-01", dob="1990-01-01", employ="PAID_16_PLUS"),  # not LD
    ]
    run = measure_file(write_file(tmp_path / "f.csv", rows, *fmt))
    assert fig(run, "SALT_LTS004_EMPLOYMENT", "18-64") == (2, 3, 66.7)  # W1 W4 / W1 W2 W4
    assert fig(run, "SALT_LTS004_ACCOMMODATION", "18-64") == (1, 3, 33.3)  # W1
    assert fig(run, "ASCOF_2E_LD", "18-64") == (2, 3, 66.7)  # W1, W2 (tenant: known wins)


def test_amalgamated_id_drops_la_id_seen_with_an_nhs_number(tmp_path):
    # the same LA id once with an NHS number and once without: the row without is dropped by
    # NHS England (cannot be assigned safely), kept by DHSC under the LA id
    rows = [
        service("I1", COMM, "2025-01-01", dob="1980-01-01"),
        row(
            pid="I1",
            nhs=None,
            type="SERVICE",
            st="LONG_TERM_NURSING",
            start="2025-06-01",
            dob="1980-01-01",
        ),
    ]
    run = measure_file(write_file(tmp_path / "f.csv", rows))
    assert fig(run, "SALT_LTS001A", "setting: Community")[0] == 1  # the nursing row dropped
    assert fig(run, "ASCOF_2E", "18-64")[1] == 2  # two DHSC persons: NHS number, 999_I1
