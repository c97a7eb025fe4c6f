"""Reporting periods: ``2024-25Q3`` names the quarter; a CLD file covers the rolling 12 months
that end with it (``rules.md`` section 2).

Financial quarters: Q1 Apr-Jun, Q2 Jul-Sep, Q3 Oct-Dec, Q4 Jan-Mar. Which release a quarter
is submitted under is spec data: ``from_quarter`` in ``cld_schema/data/releases.yaml`` (Release 2
from 2025-26 Q2: DHSC maps R1 data submitted from October 2025 to R2; ``rules.md`` section 2).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from cld_schema import release_for
from cld_schema.errors import CldError

_PERIOD = re.compile(r"^(\d{4})-(\d{2})Q([1-4])$")


class PeriodError(CldError, ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    fy_start: int  # 2024 for 2024-25
    quarter: int  # 1..4

    @classmethod
    def parse(cls, text: str) -> Period:
        m = _PERIOD.match(text.strip())
        if not m:
            raise PeriodError(
                f"period {text!r} is not of the form YYYY-YYQn, e.g. 2024-25Q3 (Oct-Dec 2024)"
            )
        start, end2, q = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if (start + 1) % 100 != end2:
            raise PeriodError(f"period {text!r}: {start}-{end2:02d} is not a financial year")
        return cls(start, q)

    @classmethod
    def containing(cls, d: date) -> Period:
        """The financial quarter that holds ``d``."""
        fy = d.year if d.month >= 4 else d.year - 1
        q = ((d.month - 4) % 12) // 3 + 1
        return cls(fy, q)

    @classmethod
    def latest_ended(cls, d: date) -> Period:
        """The latest quarter that has ended by ``d`` (its last day is ``d`` or earlier)."""
        q = cls.containing(d)
        return q if q.end <= d else q.previous()

    def __str__(self) -> str:
        return f"{self.fy_start}-{(self.fy_start + 1) % 100:02d}Q{self.quarter}"

    @property
    def quarter_start(self) -> date:
        month = 4 + 3 * (self.quarter - 1)
        year = self.fy_start + (month - 1) // 12
        return date(year, (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> date:
        """Last day of the quarter = Reporting_Period_End_Date."""
        qs = self.quarter_start
        month = qs.month + 2
        year = qs.year + (month - 1) // 12
        month = (month - 1) % 12 + 1
        return date(year, month, calendar.monthrange(year, month)[1])

    @property
    def start(self) -> date:
        """First day of the rolling 12 months = Reporting_Period_Start_Date."""
        e = self.end
        return date(e.year - 1, e.month % 12 + 1, 1) if e.month != 12 else date(e.year, 1, 1)

    @property
    def months(self) -> list[date]:
        """First day of each of the 12 months, oldest first."""
        out, y, m = [], self.start.year, self.start.month
        for _ in range(12):
            out.append(date(y, m, 1))
            m += 1
            if m == 13:
                y, m = y + 1, 1
        return out

    @property
    def default_release(self) -> str:
        return release_for(self.fy_start, self.quarter)

    def previous(self) -> Period:
        return (
            Period(self.fy_start - 1, 4)
            if self.quarter == 1
            else Period(self.fy_start, self.quarter - 1)
        )


@dataclass(frozen=True)
class RollingYear:
    """The nightly run's window: the twelve calendar months up to ``today``, the current one to
    date (e.g. 2026-01-01 to 2026-12-02), so a nightly run never checks months still to come.

    It stands where a :class:`Period` does in a build (``start``, ``end``, ``months``,
    ``default_release``) and is labelled by the quarter it falls in (``quarter``), as the
    nightly runs are in history."""

    today: date

    @property
    def start(self) -> date:
        months = self.today.year * 12 + self.today.month - 1 - 11
        return date(months // 12, months % 12 + 1, 1)

    @property
    def end(self) -> date:
        return self.today

    @property
    def months(self) -> list[date]:
        first = self.start.year * 12 + self.start.month - 1
        return [date((first + i) // 12, (first + i) % 12 + 1, 1) for i in range(12)]

    @property
    def quarter(self) -> Period:
        return Period.containing(self.today)

    @property
    def fy_start(self) -> int:
        return self.quarter.fy_start

    @property
    def default_release(self) -> str:
        return self.quarter.default_release

    def __str__(self) -> str:
        return str(self.quarter)
