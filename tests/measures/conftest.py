"""Hand-built CLD files of a few people for the measures tests.

Rows are given with value KEYs (``cld spec lists``); :func:`write_file` writes them in a
release's texts with either header style, so each scenario runs as an R2 file with label
headers and as an R1 file with database headers. ``raw:TEXT`` puts a text as it is.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from cld_schema import load_spec
from pipelines.cldfile import read_cld_info
from pipelines.measures import Edition, MeasuresRun, compute
from pipelines.period import Period

Q4 = Period.parse("2025-26Q4")  # ASCOF 2025-04-01..2026-03-31; SALT the same (Q4)
TODAY = date(2026, 5, 1)  # the national scripts' GETDATE(): after the period, as nationally
FORMATS = [("R2", "label"), ("R1", "database")]

SHORT = {
    "pid": "LA_Person_Unique_Identifier",
    "nhs": "NHS_Number",
    "dob": "Date_of_Birth",
    "dod": "Date_of_Death",
    "client": "Client_Type",
    "type": "Event_Type",
    "st": "Service_Type",
    "sc": "Service_Component",
    "dm": "Delivery_Mechanism",
    "eo": "Event_Outcome",
    "route": "Request_Route_of_Access",
    "psr": "Primary_Support_Reason",
    "accom": "Accommodation_Status",
    "employ": "Employment_Status",
    "gender": "Gender",
    "start": "Event_Start_Date",
    "end": "Event_End_Date",
    "ref": "Event_Reference",
}
_NHS = {}


def _nhs_for(pid: str) -> str:
    """A stable 10-digit number per person (the measures do not validate it)."""
    return _NHS.setdefault(pid, f"9{len(_NHS) + 100000000:09d}")


def row(**kw) -> dict:
    """One event: a 75-year-old male service user by default (keys, not texts)."""
    base = {
        "client": "SERVICE_USER",
        "dob": "1950-06-10",
        "gender": "MALE",
        "psr": "PHYSICAL_PERSONAL_CARE",
        "accom": "OWNER_OCCUPIER_OR_SHARED_OWNERSHIP_SCHEME",
        "employ": "NOT_PAID_NOT_SEEKING",
    }
    base.update(kw)
    if "nhs" not in kw:
        base["nhs"] = _nhs_for(base["pid"])
    return base


def service(pid, st, start, end=None, **kw):
    return row(pid=pid, type="SERVICE", st=st, start=start, end=end, **kw)


def stmax(pid, start, end, eo="SERVICE_ENDED_AS_PLANNED", **kw):
    return row(
        pid=pid,
        type="SERVICE",
        st="SHORT_TERM_ST_MAX",
        sc="REABLEMENT",
        start=start,
        end=end,
        eo=eo,
        **kw,
    )


def request(pid, start, end, eo="PROGRESS_TO_SUPPORT_PLANNING", **kw):
    return row(
        pid=pid,
        type="REQUEST",
        start=start,
        end=end,
        eo=eo,
        route=kw.pop("route", "COMMUNITY_OTHER_ROUTE"),
        **kw,
    )


def assessment(pid, start, end, eo="NFA_INFORMATION_ADVICE", **kw):
    return row(pid=pid, type="ASSESSMENT", start=start, end=end, eo=eo, **kw)


def write_file(
    path: Path, rows: list[dict], release: str = "R2", style: str = "label", period: Period = Q4
) -> Path:
    spec = load_spec(release)
    out = []
    for i, r in enumerate(rows):
        rec = dict.fromkeys(spec.field_names)
        rec.update(
            LA_Code="999",
            Reporting_Period_Start_Date=str(period.start),
            Reporting_Period_End_Date=str(period.end),
            Ethnicity=spec.values("Ethnicity")[0],
        )
        rec["Event_Reference"] = f"E{i + 1}"
        for k, v in r.items():
            name = SHORT.get(k, k)
            if v is None:
                rec[name] = None
            elif isinstance(v, str) and v.startswith("raw:"):
                rec[name] = v[4:]
            elif spec.list_of(name) is not None:
                rec[name] = spec.value(name, v)
            else:
                rec[name] = v
        out.append(rec)
    frame = pl.DataFrame(out, schema=dict.fromkeys(spec.field_names, pl.String))
    frame.columns = spec.headers(style)
    frame.write_csv(path)
    return path


def measure_file(
    path: Path, period: Period = Q4, *, earlier: list[tuple[Path, Period]] = (), population=None
) -> MeasuresRun:
    """Read the file(s) as ``cld measures`` does and compute every measure."""
    eds = []
    for p, per in [*earlier, (path, period)]:
        frame, _, info = read_cld_info(p)
        eds.append(Edition(frame, per, str(p), info.release))
    return compute(eds, period, population=population, today=TODAY)


def fig(run: MeasuresRun, mid: str, group: str = "Total") -> tuple:
    """(numerator, denominator, value) of one figure."""
    for f in run.results[mid].figures:
        if f.group == group:
            return f.numerator, f.denominator, f.value
    raise KeyError(f"{mid} has no group {group!r}: {[f.group for f in run.results[mid].figures]}")


@pytest.fixture(params=FORMATS, ids=[f"{r}-{s}" for r, s in FORMATS])
def fmt(request) -> tuple[str, str]:
    return request.param
