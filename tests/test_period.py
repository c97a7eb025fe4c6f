from __future__ import annotations

from datetime import date

import pytest

from pipelines.period import Period, PeriodError


@pytest.mark.parametrize(
    ("text", "start", "end", "release"),
    [
        ("2024-25Q3", date(2024, 1, 1), date(2024, 12, 31), "R1"),
        ("2024-25Q4", date(2024, 4, 1), date(2025, 3, 31), "R1"),
        ("2025-26Q1", date(2024, 7, 1), date(2025, 6, 30), "R1"),
        ("2025-26Q2", date(2024, 10, 1), date(2025, 9, 30), "R2"),
        ("2023-24Q1", date(2022, 7, 1), date(2023, 6, 30), "R1"),
    ],
)
def test_rolling_year(text: str, start: date, end: date, release: str) -> None:
    p = Period.parse(text)
    assert (p.start, p.end, p.default_release, str(p)) == (start, end, release, text)
    assert len(p.months) == 12 and p.months[0] == start and p.months[-1].month == end.month


@pytest.mark.parametrize("bad", ["2024Q3", "2024-26Q1", "2024-25Q5", "Q3"])
def test_bad_period(bad: str) -> None:
    with pytest.raises(PeriodError):
        Period.parse(bad)


def test_containing_and_previous() -> None:
    assert str(Period.containing(date(2025, 2, 14))) == "2024-25Q4"
    assert str(Period.containing(date(2025, 4, 1))) == "2025-26Q1"
    assert str(Period.parse("2025-26Q1").previous()) == "2024-25Q4"


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (date(2026, 12, 2), "2026-27Q2"),  # the real date of this work: Jul-Sep 2026 has ended
        (date(2026, 3, 31), "2025-26Q4"),  # the last day of a quarter: that quarter has ended
        (date(2026, 3, 30), "2025-26Q3"),
        (date(2026, 4, 1), "2025-26Q4"),
    ],
)
def test_latest_ended_quarter(day: date, quarter: str) -> None:
    assert str(Period.latest_ended(day)) == quarter


def test_rolling_year_to_today() -> None:
    from pipelines.period import RollingYear

    r = RollingYear(date(2026, 12, 2))  # the real date of this work
    assert (r.start, r.end, str(r), r.default_release) == (
        date(2026, 1, 1), date(2026, 12, 2), "2026-27Q3", "R2"
    )
    assert r.months[0] == date(2026, 1, 1) and r.months[-1] == date(2026, 12, 1)
    sample = RollingYear(date(2026, 3, 31))  # the sample's reference date: its whole year
    assert (sample.start, sample.end) == (Period.parse("2025-26Q4").start, date(2026, 3, 31))
    assert RollingYear(date(2025, 1, 15)).start == date(2024, 2, 1)
