"""SALT and ASCOF previews: the national figures from the council's own file (docs/measures.md).

Each measure is one declared unit (:class:`~pipelines.measures.common.Measure`) naming the
national file it follows; :func:`compute` runs them all over the prepared inputs and
:func:`write` puts ``measures.csv`` and one person-level drill-down per measure in a folder.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from cld_schema.errors import CldError
from pipelines.excel_safe import excel_safe_frame
from pipelines.measures import ascof, salt
from pipelines.measures.base import Edition, Inputs, prepare
from pipelines.measures.common import Figure, Measure, MeasureResult
from pipelines.period import Period

__all__ = [
    "MEASURES",
    "MEASURE_IDS",
    "Edition",
    "MeasuresError",
    "MeasuresRun",
    "compute",
    "figures_frame",
    "read_population",
    "write",
]

CSV_COLUMNS = ("measure", "group", "numerator", "denominator", "value")


class MeasuresError(CldError, ValueError):
    """Bad input the user can fix (population file, period); the message says what."""


def _cached(inp: Inputs, name: str, fn):
    cache = inp.__dict__.setdefault("_cache", {})
    if name not in cache:
        cache[name] = fn(inp)
    return cache[name]


def _2b(inp):
    return _cached(inp, "2bc", ascof.ascof_2bc)[0]


def _2c(inp):
    return _cached(inp, "2bc", ascof.ascof_2bc)[1]


def _sts001(inp):
    return _cached(inp, "sts001", salt.sts001)


MEASURES: tuple[Measure, ...] = (
    Measure(
        "ASCOF_2A",
        "New clients' short-term support (ST-Max) with no further request for ongoing support (%)",
        "DHSC",
        "ASCOF_measures/Create_ASCOF_2A_2425_Onwards.sql",
        "percent",
        ascof.ascof_2a,
        "new-client check looks 3 months before the period; sequels 7 days after its end",
    ),
    Measure(
        "ASCOF_2B",
        "Long-term needs met by admission to residential and nursing care, 18-64 (per 100,000)",
        "DHSC",
        "ASCOF_measures/Create_ASCOF_2B2C_2425_Onwards.sql",
        "per 100,000",
        _2b,
        "ONS population 18-64; a 365-day look-back for earlier admissions",
    ),
    Measure(
        "ASCOF_2C",
        "Long-term needs met by admission to residential and nursing care, 65+ (per 100,000)",
        "DHSC",
        "ASCOF_measures/Create_ASCOF_2B2C_2425_Onwards.sql",
        "per 100,000",
        _2c,
        "ONS population 65+; a 365-day look-back for earlier admissions",
    ),
    Measure(
        "ASCOF_2E",
        "People in long-term support living at home or with family (%)",
        "DHSC",
        "ASCOF_measures/Create_ASCOF_2E_2425_Onwards.sql",
        "percent",
        lambda i: ascof.ascof_2e(i, ld=False),
    ),
    Measure(
        "ASCOF_2E_LD",
        "Learning-disability clients 18-64 in long-term support living at home or with family (%)",
        "DHSC",
        "ASCOF_measures/Create_ASCOF_2E_2425_Onwards.sql",
        "percent",
        lambda i: ascof.ascof_2e(i, ld=True),
    ),
    Measure(
        "ASCOF_3D_1A",
        "Clients in long-term community support receiving self-directed support (%)",
        "DHSC",
        "ASCOF_measures/Create_ASCOF_3D_2425_Onwards.sql",
        "percent",
        lambda i: _cached(i, "3dc", ascof.ascof_3d_clients)[0],
    ),
    Measure(
        "ASCOF_3D_1B",
        "Carers receiving self-directed support (%)",
        "DHSC",
        "ASCOF_measures/Create_ASCOF_3D_2425_Onwards.sql",
        "percent",
        lambda i: _cached(i, "3dk", ascof.ascof_3d_carers)[0],
    ),
    Measure(
        "ASCOF_3D_2A",
        "Clients in long-term community support receiving direct payments (%)",
        "DHSC",
        "ASCOF_measures/Create_ASCOF_3D_2425_Onwards.sql",
        "percent",
        lambda i: _cached(i, "3dc", ascof.ascof_3d_clients)[1],
    ),
    Measure(
        "ASCOF_3D_2B",
        "Carers receiving direct payments (%)",
        "DHSC",
        "ASCOF_measures/Create_ASCOF_3D_2425_Onwards.sql",
        "percent",
        lambda i: _cached(i, "3dk", ascof.ascof_3d_carers)[1],
    ),
    Measure(
        "SALT_STS001",
        "Requests for support from new clients (year to date), by sequel",
        "NHS England",
        "SALT STS001/STS001 replication code.txt",
        "count",
        lambda i: _sts001(i)[0],
        "sequels up to 28 days after a request",
    ),
    Measure(
        "SALT_STS002A",
        "ST-Max for new clients (year to date), by what followed",
        "NHS England",
        "SALT STS002a/STS002a replication code.txt",
        "count",
        lambda i: salt.sts002a(i, _sts001(i)[1]),
    ),
    Measure(
        "SALT_STS002B",
        "ST-Max for existing clients (year to date)",
        "NHS England",
        "SALT STS002b/STS002b replication code.txt",
        "count",
        salt.sts002b,
    ),
    Measure(
        "SALT_LTS001A",
        "People in long-term support during the year (to date)",
        "NHS England",
        "SALT LTS001a/LTS001a replication code.txt",
        "count",
        salt.lts001a,
    ),
    Measure(
        "SALT_LTS001B",
        "People in long-term support at the quarter's end",
        "NHS England",
        "SALT LTS001b/LTS001b replication code.txt",
        "count",
        salt.lts001b,
    ),
    Measure(
        "SALT_LTS001C",
        "People in long-term support for more than 12 months at the quarter's end",
        "NHS England",
        "SALT LTS001c/LTS001c replication code.txt",
        "count",
        salt.lts001c,
        "chains that began before the file's first date are seen only from service start dates",
    ),
    Measure(
        "SALT_LTS003",
        "Carers supported during the year (to date)",
        "NHS England",
        "SALT LTS003/LTS003 replication code.txt",
        "count",
        salt.lts003,
    ),
    Measure(
        "SALT_LTS004_EMPLOYMENT",
        "Learning-disability clients 18-64 in long-term support in paid employment (%)",
        "NHS England",
        "SALT LTS004/LTS004 replication code.txt",
        "percent",
        lambda i: _cached(i, "lts004", salt.lts004)[0],
    ),
    Measure(
        "SALT_LTS004_ACCOMMODATION",
        "Learning-disability clients 18-64 in long-term support in settled accommodation (%)",
        "NHS England",
        "SALT LTS004/LTS004 replication code.txt",
        "percent",
        lambda i: _cached(i, "lts004", salt.lts004)[1],
    ),
)
MEASURE_IDS = tuple(m.id for m in MEASURES)


@dataclass
class MeasuresRun:
    """All measures of one file (with earlier editions from history when recorded)."""

    period: Period
    results: dict[str, MeasureResult]
    inputs: Inputs
    notes: list[str] = field(default_factory=list)

    def figures(self) -> pl.DataFrame:
        return figures_frame(self.results)


def read_population(path: Path) -> dict[str, int]:
    """``age_band,population`` with rows ``18-64`` and ``65+`` (ONS mid-year estimates)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MeasuresError(f"{path}: no such population file") from None
    except (IsADirectoryError, UnicodeDecodeError):
        raise MeasuresError(f"{path}: not a text CSV file (age_band,population)") from None
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or {"age_band", "population"} - set(rows[0]):
        raise MeasuresError(f"{path}: needs the columns age_band,population")
    out: dict[str, int] = {}
    for r in rows:
        b = (r.get("age_band") or "").strip()
        try:
            n = int((r.get("population") or "").replace(",", "").strip())
        except ValueError:
            raise MeasuresError(f"{path}: population for {b!r} is not a whole number") from None
        if n <= 0:
            raise MeasuresError(f"{path}: population for {b!r} must be positive")
        out[b] = n
    missing = {"18-64", "65+"} - set(out)
    if missing:
        raise MeasuresError(f"{path}: no row for age band {', '.join(sorted(missing))}")
    return out


def compute(
    editions: list[Edition],
    period: Period,
    *,
    population: dict[str, int] | None = None,
    today: date | None = None,
    only: tuple[str, ...] | None = None,
) -> MeasuresRun:
    """Every measure over ``editions`` (oldest first; the last is the file being previewed)."""
    inp = prepare(editions, period, population=population, today=today)
    results = {m.id: m.compute(inp) for m in MEASURES if only is None or m.id in only}
    notes = []
    earlier = len(editions) - 1
    if earlier:
        notes.append(
            f"look-backs use {earlier} earlier submission(s) from history "
            f"({', '.join(e.label for e in editions[:-1])})"
        )
    else:
        notes.append(
            "no earlier submissions recorded: look-backs see only this file "
            "(the single-file result is what is shown)"
        )
    for m in MEASURES:
        if m.needs and m.id in results:
            notes.append(f"{m.id}: needs {m.needs}")
    if not population:
        notes.append(
            "ASCOF_2B/2C: no --population file: numerators only (ONS mid-year "
            "population needed for the rate per 100,000)"
        )
    notes.append(
        "ASCOF_2D: not computed: it needs hospital discharges (SUS APC), which a CLD "
        "file does not hold"
    )
    notes.append(
        f"ASCOF: rolling 12 months {period.start} to {period.end}; SALT: year to "
        f"date {inp.salt_start} to {period.end}"
    )
    return MeasuresRun(period, results, inp, notes)


def figures_frame(results: dict[str, MeasureResult]) -> pl.DataFrame:
    rows = []
    for mid, res in results.items():
        for f in res.figures:
            rows.append(
                {
                    "measure": mid,
                    "group": f.group,
                    "numerator": f.numerator,
                    "denominator": f.denominator,
                    "value": f.value,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "measure": pl.String,
            "group": pl.String,
            "numerator": pl.Int64,
            "denominator": pl.Int64,
            "value": pl.Float64,
        },
    )


def drilldowns(run: MeasuresRun) -> dict[str, pl.DataFrame]:
    """Every measure's people with their LA person ids, file rows and event references (one
    join over all measures at once)."""
    parts = [
        res.people.with_columns(pl.lit(mid).alias("measure")) for mid, res in run.results.items()
    ]
    if not parts:
        return {}
    people = pl.concat(parts).with_row_index("_i")
    ev = run.inputs.events.select("rid", "edition", "row", "la_pid", "Event_Reference")
    last = len(run.inputs.editions) - 1
    x = people.select("_i", "rids").explode("rids").join(
        ev, left_on="rids", right_on="rid", how="left"
    )
    # each column's distinct values per person row, sorted and joined: deduplicated and sorted
    # as whole columns first (a per-group unique/sort in the aggregation is far slower)
    def joined(col: pl.Expr, name: str) -> pl.DataFrame:
        v = x.select("_i", col.alias(name)).drop_nulls(name).unique().sort("_i", name)
        v = v.group_by("_i", maintain_order=True).agg(pl.col(name).cast(pl.String))
        return v.with_columns(pl.col(name).list.join(";"))

    agg = people.select("_i")
    for part in (
        joined(pl.col("la_pid"), "LA_Person_Unique_Identifier"),
        joined(pl.when(pl.col("edition") == last).then(pl.col("row")), "file_rows"),
        joined(pl.col("Event_Reference"), "event_references"),
    ):
        agg = agg.join(part, on="_i", how="left")
    agg = agg.with_columns(
        pl.col("LA_Person_Unique_Identifier", "file_rows", "event_references").fill_null("")
    )
    out = people.join(agg, on="_i", how="left").sort("_i").select(
        "measure", "group", "LA_Person_Unique_Identifier", "in_numerator", "in_denominator",
        "detail", "file_rows", "event_references",
    )  # fmt: skip
    # a stable order for people reading and comparing the files
    # (ties broken by the remaining columns, so a file reads the same on every run)
    out = out.sort(
        "group", "LA_Person_Unique_Identifier", "detail", "file_rows", "event_references",
        "in_numerator", "in_denominator", nulls_last=True, maintain_order=True,
    )  # fmt: skip
    by = out.partition_by("measure", as_dict=True, maintain_order=True)
    return {mid: by.get((mid,), out.clear()) for mid in run.results}


def drilldown(run: MeasuresRun, mid: str) -> pl.DataFrame:
    """One measure's drill-down (see :func:`drilldowns`)."""
    return drilldowns(run)[mid]


def write(run: MeasuresRun, out: Path) -> tuple[Path, Path]:
    """``out/measures.csv`` and ``out/people/<MEASURE>.csv`` (Excel-safe)."""
    out.mkdir(parents=True, exist_ok=True)
    figs = run.figures()
    path = out / "measures.csv"
    figs.select(CSV_COLUMNS).write_csv(path)
    people_dir = out / "people"
    people_dir.mkdir(exist_ok=True)
    for mid, frame in drilldowns(run).items():
        excel_safe_frame(frame).write_csv(people_dir / f"{mid}.csv")
    (out / "measures_notes.txt").write_text("\n".join(run.notes) + "\n", encoding="utf-8")
    return path, people_dir


def format_figure(f: Figure, unit: str) -> str:
    if f.denominator is None:
        return f"{f.numerator:,}"
    if unit == "per 100,000":
        return f"{f.value:,.1f} per 100,000 ({f.numerator:,} / {f.denominator:,})"
    return f"{f.value:.1f}% ({f.numerator:,} / {f.denominator:,})"
