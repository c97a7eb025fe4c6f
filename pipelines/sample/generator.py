"""Make the sample council: database, provider feeds, NHS-number feedback and defect manifest.

``generate()`` is deterministic for a seed: the same seed, size and options give identical
database content and manifest. Persons are generated and written in chunks
(``volumes.yaml: chunk``), so even the England size never holds everything in memory; defects
are injected into the first chunk (the manifest says where), feeds and feedback draw on every
chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from cld_schema.errors import CldError
from pipelines.period import Period
from pipelines.sample import cqc as cqc_mod
from pipelines.sample import defects as defects_mod
from pipelines.sample import feeds as feeds_mod
from pipelines.sample.data import SampleData, load_sample_data
from pipelines.sample.journeys import MIX_KEYS, ChunkBuilder, Ids, World, _str, tables_for_chunk
from pipelines.sample.targets import TABLE_ORDER, is_url, open_target

EPOCH = date(1970, 1, 1)
DEFAULT_REFERENCE = date(2026, 3, 31)  # end of 2025-26: periods 2024-25 and 2025-26 have data
SIZES = ("small", "average", "large", "england")

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class SampleError(CldError, ValueError):
    """Bad options for the sample (unknown size, too few people, bad date)."""


@dataclass
class SampleInfo:
    """What was made and where (paths for the other stages' tests)."""

    db: Path | None  # the SQLite file (None when written to a server URL)
    url: str  # SQLAlchemy URL of the database
    out_dir: Path
    feeds_dir: Path
    feedback_dir: Path
    manifest: Path
    size: str
    people: int
    seed: int
    reference_date: date
    defect_window: tuple[date, date]
    defect_periods: list[str]  # periods whose 12-month file holds every injected defect
    counts: dict[str, int] = field(default_factory=dict)  # rows per table
    defects: int = 0
    feed_files: list[Path] = field(default_factory=list)
    cqc_manifest: Path | None = None  # the CQC pack's planted cases (pipelines/sample/cqc.py)


def day(d: date) -> int:
    return (d - EPOCH).days


def to_date(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


def defect_window(reference: date) -> tuple[date, date]:
    """The first financial quarter of the reference date's quarter's rolling 12-month file.

    With the default reference (31 March 2026) that is April-June 2025, which lies inside the
    rolling 12-month files of 2025-26Q1, Q2, Q3 and Q4 (the reference quarter itself, the
    sample's default period): defects injected there surface in each of those submissions.
    """
    p = Period.containing(reference).previous().previous().previous()
    return p.quarter_start, p.end


def periods_covering(window: tuple[date, date]) -> list[str]:
    q = Period.containing(window[0])
    out, p = [], q
    for _ in range(4):
        if p.start <= window[0] and window[1] <= p.end:
            out.append(str(p))
        p = Period(p.fy_start + (p.quarter // 4), p.quarter % 4 + 1)
    return out


def _world(data: SampleData, size_cfg: dict, rng: np.random.Generator, reference: date) -> World:
    n_teams = int(size_cfg["teams"])
    teams = data.teams[:n_teams]
    team_ids = np.arange(1, len(teams) + 1)
    roles = np.asarray([t["role"] for t in teams], dtype=object)
    per = int(size_cfg["workers_per_team"])
    worker_team = np.repeat(team_ids, per)
    n_prov = int(size_cfg["providers"])
    mix = np.asarray([float(data.volumes["mix"][k]) for k in MIX_KEYS])
    return World(
        data=data,
        ref_end=day(reference),
        span_start=day(reference) - 730 + 1,
        team_ids=team_ids,
        team_roles=roles,
        worker_team=worker_team,
        provider_ids=np.arange(1, n_prov + 1),
        provider_has_cqc=rng.random(n_prov) < 0.9,
        gp_codes=np.asarray(
            [f"S{81000 + i:05d}" for i in range(int(size_cfg["gp_practices"]))], dtype=object
        ),
        mix=mix / mix.sum(),
        review_share=float(size_cfg.get("review_share", 1.0)),
    )


def _reference_tables(data: SampleData, world: World, rng: np.random.Generator):
    teams = pl.DataFrame(
        {
            "team_id": world.team_ids,
            "team_name": [t["team_name"] for t in data.teams[: len(world.team_ids)]],
            "service_area": [t["service_area"] for t in data.teams[: len(world.team_ids)]],
        }
    )
    nw = len(world.worker_team)
    first = np.asarray(data.first_female + data.first_male, dtype=object)
    last = np.asarray(data.last, dtype=object)
    fn = first[rng.integers(0, len(first), nw)]
    ln = last[rng.integers(0, len(last), nw)]
    wid = np.arange(1, nw + 1)
    workers = pl.DataFrame(
        {
            "worker_id": wid,
            "team_id": world.worker_team,
            "worker_name": fn + " " + ln,
            "email": [f"worker{i}@samplecouncil.example" for i in wid],
        },
        schema_overrides={"worker_name": pl.String},
    )
    npv = len(world.provider_ids)
    kinds = np.asarray(
        [
            "Care Ltd",
            "Homecare Services",
            "Care Home",
            "Nursing Home",
            "Support Services",
            "Living Ltd",
        ],
        dtype=object,
    )
    places = np.asarray(
        [
            "Riverside",
            "Oakwood",
            "Meadow View",
            "Hillcrest",
            "Beech House",
            "Willow Court",
            "Ashfield",
            "Elm Park",
            "Kingsway",
            "Harbour",
        ],
        dtype=object,
    )
    pname = (
        places[rng.integers(0, len(places), npv)] + " " + kinds[rng.integers(0, len(kinds), npv)]
    )
    pname = pname + " (" + np.char.zfill(world.provider_ids.astype(str), 3).astype(object) + ")"
    cqc = np.where(
        world.provider_has_cqc,
        "1-" + rng.integers(100_000_000, 999_999_999, npv).astype(str).astype(object),
        None,
    )
    providers = pl.DataFrame(
        {"provider_id": world.provider_ids},
    ).with_columns(
        _str("provider_name", pname),
        _str("cqc_location_id", cqc),
        _str("cqc_location_name", np.where(world.provider_has_cqc, pname, None)),
    )
    gps = pl.DataFrame(
        {
            "practice_code": world.gp_codes,
            "practice_name": [
                f"{places[i % len(places)]} Medical Practice {i + 1}"
                for i in range(len(world.gp_codes))
            ],
        },
        schema_overrides={"practice_code": pl.String},
    )
    lookups = pl.DataFrame(data.lookup_rows)
    return {
        "lookup_codes": lookups,
        "gp_practices": gps,
        "teams": teams,
        "workers": workers,
        "providers": providers,
    }


def resolve_people(size: str, people: int | None, data: SampleData) -> int:
    if size not in data.volumes["sizes"]:
        raise SampleError(f"unknown size {size!r}: use one of {', '.join(data.volumes['sizes'])}")
    n = int(people if people is not None else data.volumes["sizes"][size]["people"])
    if n < 50:
        raise SampleError(f"--people {n}: the sample needs at least 50 people")
    if n >= 45_000_000:
        raise SampleError(f"--people {n}: at most 45 million people (NHS number range)")
    return n


def defect_count(defects: bool | int, people: int) -> int:
    """Defects of each kind: ``True`` scales with size (2 per kind for a few hundred people,
    about 1 per 1,000 people for bigger councils, at most 200); an int is taken as given."""
    if defects is True:
        return int(min(200, max(2, people // 1000)))
    if defects is False or defects is None:
        return 0
    if int(defects) < 0:
        raise SampleError("--defects must be 0 or more")
    return int(defects)


def generate(
    path_or_url: str | Path,
    size: str = "small",
    people: int | None = None,
    seed: int = 1,
    defects: bool | int = True,
    *,
    out_dir: Path | None = None,
    reference_date: date = DEFAULT_REFERENCE,
    progress: Progress | None = None,
    data: SampleData | None = None,
    replace: bool = False,
) -> SampleInfo:
    """Make the sample council. ``path_or_url``: a SQLite file path or a SQLAlchemy URL.

    Feeds, feedback and the manifest go to ``out_dir`` (default: the SQLite file's folder, or
    ``out/sample`` for a URL). A database at a URL that already holds the sample's tables is
    refused (:class:`TargetError`) unless ``replace``.
    """
    data = data or load_sample_data()
    n_people = resolve_people(size, people, data)
    per_kind = defect_count(defects, n_people)
    if per_kind:
        defects_mod.check_kinds(data.defect_kinds)  # a function per kind, a kind per function
    size_cfg = data.volumes["sizes"][size]
    if is_url(path_or_url):
        db_path, url = None, str(path_or_url)
        out = Path(out_dir) if out_dir else Path("out/sample")
    else:
        db_path = Path(path_or_url).resolve()
        url = f"sqlite:///{db_path}"
        out = Path(out_dir) if out_dir else db_path.parent
    out.mkdir(parents=True, exist_ok=True)
    window = defect_window(reference_date)
    seq = np.random.SeedSequence(seed)
    world_rng, *_ = (np.random.default_rng(s) for s in seq.spawn(1))
    world = _world(data, size_cfg, world_rng, reference_date)
    counts = dict.fromkeys(TABLE_ORDER, 0)
    target = open_target(db_path if db_path else url, replace=replace)
    feed_acc = feeds_mod.FeedAccumulator(world, seed)
    manifest_rows: list[dict[str, object]] = []
    try:
        for name, frame in _reference_tables(data, world, world_rng).items():
            target.write(name, frame)
            counts[name] += frame.height
        ids = Ids()
        chunk = int(data.volumes.get("chunk", 100_000))
        n_chunks = -(-n_people // chunk)
        for ci in range(n_chunks):
            n = min(chunk, n_people - ci * chunk)
            rng = np.random.default_rng(np.random.SeedSequence([seed, ci + 1]))
            builder = ChunkBuilder(world, rng, ids, n)
            builder.build()
            tables = tables_for_chunk(builder)
            if ci == 0 and per_kind:
                drng = np.random.default_rng(np.random.SeedSequence([seed, 0, 7]))
                manifest_rows += defects_mod.inject_db(
                    tables, builder, drng, per_kind, (day(window[0]), day(window[1])), ids
                )
            feed_acc.add_chunk(tables, builder, rng)
            for name in TABLE_ORDER:
                if name in tables:
                    target.write(name, tables[name])
                    counts[name] += tables[name].height
            if progress:
                progress("people", min((ci + 1) * chunk, n_people), n_people)
        planted = cqc_mod.plant(world, ids, reference_date)
        for name in TABLE_ORDER:
            if name in planted.tables:
                target.write(name, planted.tables[name])
                counts[name] += planted.tables[name].height
        target.close()
    except BaseException:
        if db_path is not None:
            db_path.with_suffix(db_path.suffix + ".tmp").unlink(missing_ok=True)
        raise
    feeds_dir, feedback_dir = out / "feeds", out / "feedback"
    drng = np.random.default_rng(np.random.SeedSequence([seed, 0, 11]))
    files, feed_defects = feed_acc.write(
        feeds_dir, drng, per_kind, (day(window[0]), day(window[1]))
    )
    manifest_rows += feed_defects
    feeds_mod.write_feedback(feedback_dir, feed_acc, drng, reference_date)
    manifest = out / "defects.csv"
    defects_mod.write_manifest(manifest, manifest_rows, data, periods_covering(window))
    cqc_manifest = cqc_mod.write_manifest(out / "cqc_manifest.json", planted)
    if progress:
        progress("files", 1, 1)
    return SampleInfo(
        db=db_path,
        url=url,
        out_dir=out,
        feeds_dir=feeds_dir,
        feedback_dir=feedback_dir,
        manifest=manifest,
        size=size,
        people=n_people,
        seed=seed,
        reference_date=reference_date,
        defect_window=window,
        defect_periods=periods_covering(window),
        counts=counts,
        defects=len(manifest_rows),
        feed_files=files,
        cqc_manifest=cqc_manifest,
    )


def small_council(
    tmp_path: Path, *, people: int = 400, seed: int = 1, defects: bool | int = True
) -> SampleInfo:
    """A few hundred people in ``tmp_path/sample/`` for tests: fast and deterministic."""
    out = Path(tmp_path) / "sample"
    return generate(out / "council.db", size="small", people=people, seed=seed, defects=defects)
