"""The CQC assurance pack: every figure's items and summaries for one as-at date.

:func:`compute` works on extract tables already read (tests hand-build them);
:func:`from_config` reads the council's database the way the build does. Both return a
:class:`Pack`, which holds person-level items (personal data: only ever written to the
pack's own files, never logged) and the summaries (counts and days only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from pipelines.cqc import dhsc
from pipelines.cqc import figures as figs
from pipelines.cqc.inputs import Inputs, cld_keys, load_extract
from pipelines.cqc.stats import headline, summarise
from pipelines.period import Period


@dataclass
class Pack:
    as_at: date
    period: Period
    inputs: Inputs
    items: dict[str, pl.DataFrame]  # figure id -> items (person-level)
    medians: pl.DataFrame  # DHSC per-quarter medians (T1/T2)
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self, fid: str, by: list[str] | None = None) -> pl.DataFrame:
        return summarise(fid, self.items[fid], by)

    def headlines(self) -> dict[str, dict]:
        return {fid: headline(fid, it) for fid, it in self.items.items()}


def _age_group(dob: pl.Expr, on: date) -> pl.Expr:
    d = pl.lit(on)
    years = d.dt.year() - dob.dt.year() - (
        (d.dt.month() < dob.dt.month())
        | ((d.dt.month() == dob.dt.month()) & (d.dt.day() < dob.dt.day()))
    ).cast(pl.Int32)
    return (
        pl.when(dob.is_null()).then(pl.lit("unknown"))
        .when(years < 18).then(pl.lit("under 18"))
        .when(years <= 64).then(pl.lit("18-64"))
        .otherwise(pl.lit("65+"))
    )


def _finish(inp: Inputs, it: pl.DataFrame) -> pl.DataFrame:
    """Age group at the as-at date (unless the unit set one), team of the allocation open at
    the as-at date (else the event's own team), team names."""
    x = inp.extract
    births = pl.concat(
        [x.persons.select("person_id", "dob"),
         inp.cld.select("person_id", "dob").drop_nulls()], how="vertical_relaxed"
    ).unique("person_id", keep="first")
    out = (
        it.join(births, on="person_id", how="left")
        .join(x.owners.select("person_id", pl.col("team_id").alias("_owner")), on="person_id",
              how="left")
        .with_columns(
            pl.coalesce(pl.col("age_group"), _age_group(pl.col("dob"), inp.as_at))
            .alias("age_group"),
            pl.coalesce(pl.col("_owner"), pl.col("team_id")).alias("team_id"),
        )
        .drop("dob", "_owner")
        .join(x.teams, on="team_id", how="left")
        .with_columns(pl.col("team_name").fill_null("(no team)"))
    )
    return out


def compute(
    tables: dict[str, pl.DataFrame],
    frames: list[tuple[Period, pl.DataFrame]],
    mappings: Any,
    as_at: date,
    period: Period,
    only: list[str] | None = None,
) -> Pack:
    """The pack from extract ``tables`` and the CLD ``frames`` built from them (each with
    the period it covers: the period and the year before)."""
    extract = load_extract(tables, mappings, as_at)
    parts = [(p.start, p.end, cld_keys(f)) for p, f in frames]
    joined = dhsc.joined_table(parts) if parts else pl.DataFrame(
        schema={"person_id": pl.Int64, "dob": pl.Date})
    inp = Inputs(as_at=as_at, period=period, extract=extract, cld=joined)
    items = {}
    for fid in figs.definitions()["figures"]:
        if only and fid not in only:
            continue
        items[fid] = _finish(inp, figs.FIGURES[fid].compute(inp))
    medians = dhsc.la_medians(figs.service_user_waits(inp)) if parts else None
    return Pack(as_at=as_at, period=period, inputs=inp, items=items, medians=medians)


def year_before(p: Period) -> Period:
    return Period(p.fy_start - 1, p.quarter)


def build_frames(
    tables: dict[str, pl.DataFrame], feeds: Any, period: Period, release: str,
    mappings_dir: Any, la_code: str,
) -> list[tuple[Period, pl.DataFrame]]:
    """The CLD rows of ``period`` and of the year before, from one extract."""
    from pipelines.transform import transform

    out = []
    for p in (period, year_before(period)):
        out.append((p, transform(tables, feeds, p, release, mappings_dir, la_code).frame))
    return out


def from_config(
    cfg: Any, period: Period, as_at: date | None = None, progress: Any = None,
    only: list[str] | None = None,
) -> Pack:
    """Read the council's database (as ``cld build`` does) and compute the pack."""
    from cld_schema import load_spec
    from pipelines.build import BuildError, _check_source, _feeds, choose_release, extract_with
    from pipelines.mappings import load_mappings
    from pipelines.source.extract import ExtractError

    say = progress or (lambda text: None)
    url = cfg.database_url
    _check_source(url)
    release = choose_release(cfg, period, None)
    say(f"reading the case-management database for {period}")
    try:
        tables = extract_with(cfg, url, period)
    except ExtractError as exc:
        raise BuildError(f"cannot read the case-management database: {exc}") from None
    feeds = _feeds(cfg, tables, move=False)  # the pack keeps nothing of a build: moves none
    mdir = cfg.path(cfg.paths.mappings_dir)
    mappings = load_mappings(mdir, load_spec("R1"), load_spec("R2"))
    if only and all(f.startswith("W") for f in only):  # waiting now: the extract alone
        frames = []
    else:
        say("building the CLD rows of the period and the year before")
        frames = build_frames(tables, feeds, period, release, mdir, cfg.council.la_code)
    say("working out the figures")
    pack = compute(tables, frames, mappings, as_at or period.end, period, only=only)
    pack.meta.update({"release": release, "council": cfg.council.la_code,
                      "council_name": cfg.council.name})
    return pack
