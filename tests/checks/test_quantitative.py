"""Great Expectations dataset checks and offline Data Docs (one GX run for the module: GX
costs seconds to import and start)."""

from __future__ import annotations

import re

import polars as pl
import pytest

from checks import run_checks
from checks.thresholds import CheckThresholds
from tests.checks.conftest import frame_of

THRESHOLDS = CheckThresholds.parse({
    "completeness": {"Gender": 0.9, "Ethnicity": 0.5},
    "complete_months": {"event_types": ["REQUEST", "ASSESSMENT", "SERVICE"], "min_events": 1},
    "volumes": {"REQUEST": {"min": 0, "max": 1}},
    "previous": {"max_change": 0.5},
})


def _year(spec):
    """Requests and assessments every month of 2024 except no assessment in July; one
    service open all year; Gender blank on a third of the rows."""
    rows = []
    for m in range(1, 13):
        d = f"2024-{m:02d}-10"
        rows.append(
            {
                "Event_Start_Date": d,
                "Event_End_Date": d,
                "Event_Reference": f"R{m}",
                "Gender": None if m % 3 == 0 else "key:MALE",
            }
        )
        if m != 7:
            rows.append(
                {
                    "Event_Type": "key:ASSESSMENT",
                    "Request_Route_of_Access": None,
                    "Assessment_Type": "key:SHORT_TERM",
                    "Event_Start_Date": d,
                    "Event_End_Date": d,
                    "Event_Reference": f"A{m}",
                }
            )
    rows.append(
        {
            "Event_Type": "key:SERVICE",
            "Request_Route_of_Access": None,
            "Event_Start_Date": "2023-06-01",
            "Event_End_Date": None,
            "Event_Outcome": "key:PROVISION_OF_SERVICE",
            "Event_Reference": "S1",
        }
    )
    rows.append(dict(rows[0], Event_Start_Date="2024-01-11", Event_End_Date="2024-01-11"))
    return frame_of(spec, rows)


@pytest.fixture(scope="module")
def result(spec_r1, tmp_path_factory):
    frame = _year(spec_r1)
    docs = tmp_path_factory.mktemp("docs")
    previous = frame.filter(pl.col("Event_Type") == "Request")  # assessments appeared from 0
    return run_checks(
        frame,
        spec_r1,
        thresholds=THRESHOLDS,
        previous=previous,
        data_docs_dir=docs / "site",
    )


def _q(result, rule_id):
    return result.findings.filter(pl.col("rule_id") == rule_id)


def test_month_without_assessments(result):
    f = _q(result, "QNT_complete_months")
    assert f.select("event_type", "event_start").rows() == [("ASSESSMENT", "2024-07-01")]
    assert f["severity"].to_list() == ["error"] and f["row"].is_null().all()


def test_completeness_threshold(result):
    assert _q(result, "QNT_complete_Gender")["value"].to_list() == [
        "84.0% filled"
    ]  # 4 of 25 rows blank
    assert _q(result, "QNT_complete_Ethnicity").height == 0  # all filled


def test_volume_bounds_per_month(result):
    f = _q(result, "QNT_volume_month")
    assert f["event_start"].to_list() == ["2024-01-01"]  # two requests in January, max 1


def test_change_against_previous(result):
    f = _q(result, "QNT_change_previous")
    assert f["event_type"].to_list() == ["Assessment"]  # requests unchanged; assessments new


def test_data_docs_offline(result):
    index = result.data_docs
    assert index is not None and index.exists()
    pages = list(index.parent.rglob("*.html"))
    assert len(pages) >= 4
    remote = re.compile(
        r"<link[^>]+href=\"https?://|<script[^>]+src=\"https?://|<img[^>]+src=\"https?://"
        r"|url\(['\"]?https?://",
        re.IGNORECASE,
    )
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not remote.search(html), page
        assert "<style>" in html
    # the index lists every validation and suite as plain links (its own tables need
    # JavaScript that cannot load offline), each with whether it passed
    html = index.read_text(encoding="utf-8")
    block = html[html.index('<div class="cld-offline-index">'):]
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', block[:block.index("</div>")])
    targets = {index.parent / href for href, _ in links}
    assert targets == {p for p in pages if p != index}
    assert all((index.parent / href).is_file() for href, _ in links)
    labels = [label for _, label in links]
    assert any(x.startswith("months: failed") for x in labels), labels  # July: no assessment


def test_rows_without_an_event_type_compare_with_their_own_kind(spec_r1) -> None:
    """usertest P6: an identical rebuild with rows of no Event_Type (carers known by
    association) gained two QNT_change_previous warnings (that group 'vanished' and
    'appeared'), while the comparison of the two submissions said 0."""
    year = _year(spec_r1)
    blank = pl.lit(None, dtype=year["Event_Type"].dtype).alias("Event_Type")
    frame = pl.concat([year, year.head(3).with_columns(blank)])
    same = run_checks(frame, spec_r1, thresholds=THRESHOLDS, previous=frame)
    assert _q(same, "QNT_change_previous").height == 0
    fewer = pl.concat([year, year.head(1).with_columns(blank)])  # 1 such row before, 3 now
    grown = run_checks(frame, spec_r1, thresholds=THRESHOLDS, previous=fewer)
    assert _q(grown, "QNT_change_previous").height == 1  # a real change is still found
