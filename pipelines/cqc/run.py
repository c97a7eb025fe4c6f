"""Write the pack: the workbook and the case summaries, and say the headline figures.

:func:`pipelines.runs.cqc` (what ``cld cqc`` and the Prefect flow call) delegates here. The
result holds counts, days and paths only: the case list is personal data and stays in the
files written for the person who asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cld_schema.errors import CldError
from pipelines.period import Period

DEFAULT_SEED = 1


@dataclass
class CqcOutcome:
    period: str
    as_at: str
    headlines: dict[str, dict] = field(default_factory=dict)  # figure -> counts / days
    workbook: Path | None = None
    summaries: Path | None = None
    cases: int = 0
    facts: dict[str, Any] = field(default_factory=dict)


def default_period(cfg: Any, as_at: date | None) -> Period:
    """The quarter that holds the as-at date; without one, the period ``cld run quarterly``
    takes for the same config (:func:`pipelines.runs.default_period`: the last complete quarter
    by ``[runs] reference_date``, else by the real date), whichever database it reads."""
    if as_at is not None:
        return Period.containing(as_at)
    return Period.latest_ended(cfg.today())  # what runs.default_period(cfg) returns


class CqcError(CldError, ValueError):
    """A CQC pack option that does not fit the period (the message says which)."""


def write_pack(
    cfg: Any,
    period: Period | None = None,
    as_at: date | None = None,
    seed: int = DEFAULT_SEED,
    out: Path | None = None,
    progress: Callable[[str], None] | None = None,
    points: str = "week",
) -> CqcOutcome:
    from pipelines.cqc.pack import from_config
    from pipelines.cqc.workbook import write_workbook

    say = progress or (lambda text: None)
    p = period or default_period(cfg, as_at)
    d = as_at or p.end
    if d > p.end or d < p.quarter_start:
        raise CqcError(f"--as-at {d} is not inside {p} ({p.quarter_start} to {p.end}): give a "
                       "date inside the quarter, or another --period")
    pack = from_config(cfg, p, d, progress=say)
    folder = Path(out) if out else cfg.path(cfg.paths.output_dir) / "cqc" / f"{p}_as_at_{d}"
    folder.mkdir(parents=True, exist_ok=True)
    outcome = CqcOutcome(str(p), d.isoformat(), headlines=pack.headlines())
    from pipelines.cqc import cases as cases_mod

    say(f"drawing the 50 case-tracking cases (seed {seed})")
    drawn = cases_mod.draw(pack, seed)
    cases = cases_mod.case_list(pack, drawn)
    summaries = cases_mod.write_summaries(pack, drawn, folder / "cases")
    outcome.cases = drawn.height
    outcome.summaries = summaries
    from pipelines.cqc.trend import read_trend

    trend = read_trend(cfg, points)
    say("writing the workbook")
    outcome.workbook = write_workbook(
        pack, folder / f"cqc_pack_{cfg.council.la_code}_{d}.xlsx", cases=cases, trend=trend
    )
    shareable = write_workbook(
        pack, folder / f"cqc_pack_{cfg.council.la_code}_{d}_masked.xlsx",
        cases=cases_mod.masked(cases), trend=trend,
    )
    outcome.facts = {
        "as at": d.isoformat(),
        "period": f"{p} (12 months {pack.inputs.year_start} to {d})",
        "workbook": str(outcome.workbook),
        "workbook to share (case list masked)": str(shareable),
        "case summaries": str(summaries) if summaries else "(none)",
        "cases drawn": outcome.cases,
    }
    return outcome
