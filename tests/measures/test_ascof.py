"""ASCOF 2A, 2B/2C, 2E and 3D on hand-built files, worked out by hand from DHSC's SQL
(DataS-DHSC/ASC-CLD-LA-Dashboard @ 9bee728, ASCOF_measures/*_2425_Onwards.sql).

Each person is there for one rule; the comment says what the figure would be without it.
Every scenario runs as an R2 file with label headers and an R1 file with database headers.
"""

from __future__ import annotations

from tests.measures.conftest import (
    assessment,
    fig,
    measure_file,
    request,
    row,
    service,
    stmax,
    write_file,
)


def test_2a_sequels_new_clients_and_age(tmp_path, fmt):
    rows = [
        # A1 18-64: ST-Max then long-term community support 5 days later -> sequel 3, LTS:
        # in the denominator only (without the service step it would be 4a, a success)
        stmax("A1", "2025-05-01", "2025-05-20", dob="1980-02-02"),
        service("A1", "LONG_TERM_COMMUNITY", "2025-05-25", dob="1980-02-02"),
        # A2 65+: ST-Max that ended as planned, nothing after -> 4a: success
        stmax("A2", "2025-06-01", "2025-06-30"),
        # A3: a new request 2 days after, 'support declined' (hierarchy 12) beats the ST-Max's
        # 'ended as planned' (14) -> neither (without step 4b: a success)
        stmax("A3", "2025-07-01", "2025-07-20"),
        request("A3", "2025-07-22", "2025-07-23", eo="NFA_SUPPORT_DECLINED"),
        # A4: long-term support open when the ST-Max began: not a new client -> left out
        service("A4", "LONG_TERM_COMMUNITY", "2025-01-01"),
        stmax("A4", "2025-08-01", "2025-08-20"),
        # A4b: long-term support ended 113 days before (>= 91): new client -> success
        service("A4b", "LONG_TERM_COMMUNITY", "2025-04-01", "2025-04-10"),
        stmax("A4b", "2025-08-01", "2025-08-20"),
        # A5: born 28 Sep 2007, 17 on 20 Sep 2025, but 18 from the 1st of the birth month
        # -> counted in 18-64 (by the real birthday: left out as under 18)
        stmax("A5", "2025-09-01", "2025-09-20", dob="2007-09-28"),
        # A6: born 25 Sep 1960: 64 by the real birthday, 65 from the birth month -> 65+
        stmax("A6", "2025-09-01", "2025-09-20", dob="1960-09-25"),
        # A7: died 5 days after the ST-Max ended -> NFA deceased: neither (else a success)
        stmax("A7", "2025-10-01", "2025-10-10", dod="2025-10-15"),
        # A8: equipment during an ST-Max whose own outcome cannot classify -> step 5, ongoing
        # low level: success (without step 5: unable to classify, neither)
        stmax("A8", "2025-11-01", "2025-11-30", eo="PROGRESS_TO_SUPPORT_PLANNING"),
        service("A8", "SHORT_TERM_ONGOING_LOW_LEVEL", "2025-11-05", "2025-11-06", sc="EQUIPMENT"),
        # A9: two ST-Max 5 days apart: one episode (unclustered: two successes)
        stmax("A9", "2025-12-01", "2025-12-10"),
        stmax("A9", "2025-12-15", "2025-12-31"),
        # A12: admitted to hospital -> neither
        stmax("A12", "2026-01-01", "2026-01-15", eo="ADMITTED_TO_HOSPITAL"),
        # A13: ST-Max ending after the period -> not in this year
        stmax("A13", "2026-03-20", "2026-04-10"),
    ]
    run = measure_file(write_file(tmp_path / "f.csv", rows, *fmt))
    assert fig(run, "ASCOF_2A", "18-64") == (1, 2, 50.0)  # A5 / A1, A5
    assert fig(run, "ASCOF_2A", "65+") == (5, 5, 100.0)  # A2, A4b, A6, A8, A9
    assert fig(run, "ASCOF_2A", "Total") == (6, 7, 85.7)
    people = run.results["ASCOF_2A"].people
    a8 = people.filter(people["detail"].str.contains("2025-11-01"))
    assert a8["detail"][0].endswith("Short term support: Ongoing low level (sequel 5)")


def test_2a_r2_only_outcome_is_unable_to_classify(tmp_path):
    # 'Continuation of support or services' (R2 only) is one of the +100 outcomes
    rows = [
        stmax("U1", "2025-06-01", "2025-06-30", eo="CONTINUATION_OF_SUPPORT"),
        stmax("U2", "2025-06-01", "2025-06-30"),
    ]
    run = measure_file(write_file(tmp_path / "f.csv", rows, "R2", "label"))
    assert fig(run, "ASCOF_2A") == (1, 1, 100.0)


def test_2b_2c_new_admissions(tmp_path, fmt):
    rows = [
        service(
            "B1",
            "LONG_TERM_RESIDENTIAL",
            "2025-06-01",
            sc="LONG_TERM_RESIDENTIAL_CARE",
            dob="1980-01-01",
        ),
        service("B2", "LONG_TERM_NURSING", "2025-07-01", sc="LONG_TERM_NURSING_CARE"),
        # short-term residential component: not a long-term admission
        service("B3", "LONG_TERM_RESIDENTIAL", "2025-06-01", sc="SHORT_TERM_RESIDENTIAL_CARE"),
        # NATIONAL CHOICE: a blank component is left out (NULL NOT LIKE '%Short%')
        service("B4", "LONG_TERM_RESIDENTIAL", "2025-06-01"),
        # a second stay starting within 365 days of the first ending: only the first is new
        service(
            "B5",
            "LONG_TERM_RESIDENTIAL",
            "2025-04-15",
            "2025-05-01",
            sc="LONG_TERM_RESIDENTIAL_CARE",
        ),
        service("B5", "LONG_TERM_RESIDENTIAL", "2025-09-01", sc="LONG_TERM_RESIDENTIAL_CARE"),
        # ended as the person went on to fund themselves: left out
        service(
            "B7",
            "LONG_TERM_RESIDENTIAL",
            "2025-06-01",
            "2025-07-01",
            sc="LONG_TERM_RESIDENTIAL_CARE",
            eo="NFA_SELF_FUNDED",
        ),
        # 17 by the real birthday, 18 from the birth month at the start -> 2B
        service(
            "B8",
            "LONG_TERM_RESIDENTIAL",
            "2025-06-05",
            sc="LONG_TERM_RESIDENTIAL_CARE",
            dob="2007-06-20",
        ),
        # 64 by the real birthday, 65 from the birth month -> 2C
        service(
            "B9", "LONG_TERM_NURSING", "2025-06-05", sc="LONG_TERM_NURSING_CARE", dob="1960-06-25"
        ),
        # a carer's service is not an admission
        service(
            "B10",
            "LONG_TERM_RESIDENTIAL",
            "2025-06-01",
            sc="LONG_TERM_RESIDENTIAL_CARE",
            client="CARER",
        ),
    ]
    path = write_file(tmp_path / "f.csv", rows, *fmt)
    run = measure_file(path)
    assert fig(run, "ASCOF_2B", "18-64") == (2, None, 2.0)  # B1, B8
    assert fig(run, "ASCOF_2C", "65+") == (3, None, 3.0)  # B2, B5, B9
    pop = {"18-64": 200_000, "65+": 50_000}
    run = measure_file(path, population=pop)
    assert fig(run, "ASCOF_2B", "18-64") == (2, 200_000, 1.0)
    assert fig(run, "ASCOF_2C", "65+") == (3, 50_000, 6.0)


def test_2e_accommodation_known_beats_unknown_and_inference(tmp_path, fmt):
    comm = "LONG_TERM_COMMUNITY"
    rows = [
        service("E1", comm, "2025-05-01", dob="1985-01-01"),  # owner occupier: settled
        service("E2", "LONG_TERM_RESIDENTIAL", "2025-05-01", accom="REGISTERED_CARE_HOME"),
        # known (private tenant, earlier) beats the later Unknown -> settled
        request(
            "E3", "2025-04-20", "2025-04-21", accom="TENANT_PRIVATE_LANDLORD", dob="1985-01-01"
        ),
        service("E3", comm, "2025-05-10", accom="UNKNOWN", dob="1985-01-01"),
        # Unknown everywhere: home support -> 'presumed at home', settled
        service("E4", comm, "2025-05-01", sc="HOME_SUPPORT", accom="UNKNOWN", dob="1985-01-01"),
        # learning disability 18-64 in supported accommodation: settled, in 2E LD too
        service(
            "E5",
            comm,
            "2025-05-01",
            psr="LEARNING_DISABILITY",
            dob="1990-01-01",
            accom="SUPPORTED_ACCOMMODATION_SUPPORTED_LODGINGS_SUPPORTED_GROUP_HOME",
        ),
        # learning disability 65+: in 2E, not in 2E LD
        service("E6", comm, "2025-05-01", psr="LEARNING_DISABILITY"),
        # two known statuses at the same rank conflict -> Unknown -> a community service with
        # no telling component -> 'presumed in community', not settled (else settled)
        service("E8", comm, "2025-05-01", dob="1985-01-01"),
        service(
            "E8",
            comm,
            "2025-05-01",
            sc="DAY_SUPPORT",
            dob="1985-01-01",
            accom="TENANT_PRIVATE_LANDLORD",
        ),
        # ended before the period: not in long-term support in the year
        service("E9", comm, "2024-05-01", "2025-03-01"),
    ]
    run = measure_file(write_file(tmp_path / "f.csv", rows, *fmt))
    assert fig(run, "ASCOF_2E", "18-64") == (4, 5, 80.0)  # E1 E3 E4 E5 / + E8
    assert fig(run, "ASCOF_2E", "65+") == (1, 2, 50.0)  # E6 / E2 E6
    assert fig(run, "ASCOF_2E", "Total") == (5, 7, 71.4)
    assert fig(run, "ASCOF_2E", "Male 18-64") == (4, 5, 80.0)
    assert fig(run, "ASCOF_2E_LD", "18-64") == (1, 1, 100.0)
    assert {f.group for f in run.results["ASCOF_2E_LD"].figures} >= {"18-64", "Total"}


def test_3d_clients_setting_hierarchy_and_mechanisms(tmp_path, fmt):
    comm = "LONG_TERM_COMMUNITY"
    rows = [
        service("D1", comm, "2025-01-01", dm="DIRECT_PAYMENT", dob="1980-01-01"),
        service("D2", comm, "2025-01-01", dm="CASSR_MANAGED_PERSONAL_BUDGET"),
        service("D3", comm, "2025-01-01", dm="CASSR_COMMISSIONED_SUPPORT"),
        # a direct-payment component makes it a direct payment whatever the mechanism
        service("D4", comm, "2025-01-01", dm="CASSR_COMMISSIONED_SUPPORT", sc="DIRECT_PAYMENT"),
        # nursing outranks the community direct payment: not in the community denominator
        service("D5", comm, "2025-01-01", dm="DIRECT_PAYMENT"),
        service("D5", "LONG_TERM_NURSING", "2025-06-01"),
        # ended before the snapshot; died before the snapshot
        service("D6", comm, "2025-01-01", "2026-02-01", dm="DIRECT_PAYMENT"),
        service("D7", comm, "2025-01-01", dm="DIRECT_PAYMENT", dod="2026-03-01"),
        # no mechanism: community, in the denominator only
        service("D8", comm, "2025-01-01"),
    ]
    run = measure_file(write_file(tmp_path / "f.csv", rows, *fmt))
    assert fig(run, "ASCOF_3D_1A", "18-64") == (1, 1, 100.0)
    assert fig(run, "ASCOF_3D_1A", "65+") == (2, 4, 50.0)  # D2 D4 / D2 D3 D4 D8
    assert fig(run, "ASCOF_3D_1A", "Total") == (3, 5, 60.0)
    assert fig(run, "ASCOF_3D_2A", "65+") == (1, 4, 25.0)  # D4
    assert fig(run, "ASCOF_3D_2A", "Total") == (2, 5, 40.0)


def test_3d_carers_and_the_blank_component_quirk(tmp_path, fmt):
    direct = "CARER_SUPPORT_DIRECT"
    rows = [
        service("C1", direct, "2025-05-01", client="CARER", dm="DIRECT_PAYMENT", dob="1980-01-01"),
        service(
            "C2",
            direct,
            "2025-05-01",
            client="CARER",
            dm="CASSR_MANAGED_PERSONAL_BUDGET",
            sc="CARER_RESPITE",
            dob="1955-01-01",
        ),
        # NATIONAL CHOICE: a managed budget with a blank component has no category: left out
        service(
            "C3",
            direct,
            "2025-05-01",
            client="CARER",
            dm="CASSR_MANAGED_PERSONAL_BUDGET",
            dob="1955-01-01",
        ),
        service(
            "C4",
            direct,
            "2025-05-01",
            client="CARER",
            dm="CASSR_COMMISSIONED_SUPPORT",
            sc="CARER_RESPITE",
            dob="1955-01-01",
        ),
        # information and advice only: not in the denominator
        assessment("C5", "2025-05-01", "2025-05-02", client="CARER", dob="1955-01-01"),
        # a direct payment outranks the assessment
        assessment("C6", "2025-05-01", "2025-05-02", client="CARER", dob="1955-01-01"),
        service("C6", direct, "2025-06-01", client="CARER", dm="DIRECT_PAYMENT", dob="1955-01-01"),
    ]
    run = measure_file(write_file(tmp_path / "f.csv", rows, *fmt))
    assert fig(run, "ASCOF_3D_1B", "18-64") == (1, 1, 100.0)
    assert fig(run, "ASCOF_3D_1B", "65+") == (2, 3, 66.7)  # C2 C6 / C2 C4 C6
    assert fig(run, "ASCOF_3D_1B", "Total") == (3, 4, 75.0)
    assert fig(run, "ASCOF_3D_2B", "Total") == (2, 4, 50.0)  # C1 C6
    # NHS England's LTS003 has no component test: C3 counts there (managed budget)
    assert fig(run, "SALT_LTS003", "Total") == (6, None, 6.0)
    assert fig(run, "SALT_LTS003", "support: CASSR Managed Personal Budget")[0] == 2


def test_duplicates_and_look_backs_across_editions(tmp_path):
    """Earlier submissions from history: an ST-Max's earlier long-term support and an earlier
    care-home stay, both ended before this file's 12 months, are seen only through them."""
    from pipelines.period import Period

    q3 = Period.parse("2025-26Q3")
    earlier = [
        service("H1", "LONG_TERM_COMMUNITY", "2024-06-01", "2025-03-15", period=None),
        service(
            "H2",
            "LONG_TERM_RESIDENTIAL",
            "2024-11-01",
            "2025-02-15",
            sc="LONG_TERM_RESIDENTIAL_CARE",
        ),
        # the same open ST-Max in both editions (a duplicate): counted once
        stmax("H3", "2025-03-20", None),
    ]
    for r in earlier:
        r.pop("period", None)
    current = [
        stmax("H1", "2025-05-01", "2025-05-20"),
        service("H2", "LONG_TERM_RESIDENTIAL", "2025-10-01", sc="LONG_TERM_RESIDENTIAL_CARE"),
        stmax("H3", "2025-03-20", "2025-04-25"),
    ]
    old = write_file(tmp_path / "q3.csv", earlier, "R2", "label", period=q3)
    new = write_file(tmp_path / "q4.csv", current, "R2", "database")
    alone = measure_file(new)
    assert fig(alone, "ASCOF_2A") == (2, 2, 100.0)  # H1 and H3 look new
    assert fig(alone, "ASCOF_2C", "65+")[0] == 1  # H2 looks like a new admission
    joined = measure_file(new, earlier=[(old, q3)])
    assert fig(joined, "ASCOF_2A") == (1, 1, 100.0)  # H1's support ended 47 days before
    assert fig(joined, "ASCOF_2C", "65+")[0] == 0  # H2's stay ended 228 days before
    assert any("1 earlier submission" in n for n in joined.notes)
    assert any("no earlier submissions" in n for n in alone.notes)


def test_person_without_nhs_number_uses_la_id(tmp_path):
    rows = [
        row(
            pid="N1",
            nhs=None,
            type="SERVICE",
            st="LONG_TERM_COMMUNITY",
            start="2025-05-01",
            dm="DIRECT_PAYMENT",
        )
    ]
    run = measure_file(write_file(tmp_path / "f.csv", rows))
    assert fig(run, "ASCOF_3D_2A") == (1, 1, 100.0)
    people = run.results["ASCOF_3D_2A"].people
    assert people["person"].to_list() == ["999_N1"]  # DHSC: LA_Code + '_' + LA person id


def test_a_file_with_almost_nothing_still_gives_every_figure(tmp_path):
    from pipelines.measures import MEASURE_IDS

    run = measure_file(write_file(tmp_path / "f.csv", [request("Z1", "2025-05-01", "2025-05-02")]))
    assert set(run.results) == set(MEASURE_IDS)
    assert fig(run, "ASCOF_2A") == (0, 0, 0.0)  # DHSC shows 0 for an empty denominator
    assert fig(run, "SALT_STS001") == (1, None, 1.0)
