"""The quarterly build: extract → provider feeds → transform → submission file + summary.

``build(cfg, period)`` is what ``cld build`` and the Prefect flows call. It writes:

* the submission file (``cld_<LA>_<period>_<release>.csv[.gz]`` in ``[paths] output_dir``
  unless ``out`` names another file), atomically;
* a summary JSON beside it (``….summary.json``): rows by event type and month, unmapped local
  codes with counts, quarantined feed files with their reasons, rows left out by reason, feed
  matching counts and the time per stage. Counts and codes only: no personal data.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from cld_schema import RELEASES
from cld_schema.errors import CldError
from pipelines.config import Config
from pipelines.period import Period

log = logging.getLogger(__name__)

# progress(stage, done, total): stage is extract | feeds | transform | write
Progress = Callable[[str, int, int], None]
STAGES = ("extract", "feeds", "transform", "write")


class BuildError(CldError):
    """The build cannot run (no database, bad option); the message says what to do."""


@dataclass
class BuildResult:
    path: Path
    summary_path: Path
    summary: dict[str, Any]
    frame: pl.DataFrame
    unmapped: pl.DataFrame
    quarantined: list[Any] = field(default_factory=list)
    held: list[Any] = field(default_factory=list)  # still in quarantine from earlier runs


def choose_release(cfg: Config, period: Period, release: str | None) -> str:
    chosen = release or cfg.submission.release
    if chosen == "auto":
        return period.default_release
    if chosen not in RELEASES:
        raise BuildError(f"release {chosen!r} is not {', '.join(RELEASES)} or auto")
    return chosen


def _not_in_the_future(period: Period) -> None:
    """A quarter that has not begun (by the real date) holds no events: refused in one line;
    one still running is built, with a warning."""
    start = getattr(period, "quarter_start", None)  # a nightly run's rolling year has none
    if start is None:
        return
    today = date.today()
    if start > today:
        raise BuildError(
            f"{period} has not begun yet (it starts {start:%Y-%m-%d}; today is "
            f"{today:%Y-%m-%d}): give a quarter that has ended, e.g. "
            f"{Period.latest_ended(today)}"
        )
    if period.end >= today:
        log.warning("%s has not ended yet (it ends %s): the file holds its events up to today",
                    period, f"{period.end:%Y-%m-%d}")


def default_path(cfg: Config, period: Period, release: str, gzip: bool) -> Path:
    name = f"cld_{cfg.council.la_code}_{period}_{release}.csv" + (".gz" if gzip else "")
    return cfg.path(cfg.paths.output_dir) / name


def summary_path_for(path: Path) -> Path:
    stem = path.name.removesuffix(".gz").removesuffix(".csv")
    return path.with_name(f"{stem}.summary.json")


def _check_source(url: str) -> None:
    """An SQLite file that does not exist would be created empty: refuse instead."""
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        if not db.exists():
            raise BuildError(
                f"the sample database {db} does not exist: run `cld sample` (or `cld quickstart`), "
                "or set CLD_DATABASE_URL to your case-management database"
            )


_READ_NOW = object()


def _feeds(cfg: Config, tables: dict[str, pl.DataFrame], read: Any = _READ_NOW,
           move: bool = True) -> Any:
    """The provider feeds matched to the extract's people: the files ``read`` already
    (:func:`_read_feed_files`), else read now. None when there is no feeds folder.
    ``move``: quarantine the files that break their contract (else leave them in place)."""
    from pipelines.source.feeds import match_feeds

    if read is _READ_NOW:
        read = _read_feed_files(cfg)
    if read is None:
        return None
    persons = tables.get("person_index", tables["persons"])
    return match_feeds(read, cfg.path(cfg.paths.quarantine_dir), persons, move=move)


def _read_feed_files(cfg: Config) -> Any:
    """The provider files read and checked (nothing matched or moved yet), or None when there
    is no feeds folder."""
    from pipelines.source.feeds import read_feed_files

    feeds_dir = cfg.path(cfg.paths.feeds_dir)
    if not feeds_dir.is_dir():
        return None
    return read_feed_files(feeds_dir, cfg.path(cfg.paths.contracts_dir))


# Person-level tables: one person's details and history (the transform takes the latest value
# known in the period, and the owning team from the allocations).
PERSON_TABLES = frozenset(
    {
        "persons",
        "person_addresses",
        "person_support_reasons",
        "person_employment",
        "person_gp_registrations",
        "person_conditions",
        "allocations",
        "financial_assessments",
    }
)
ALL_HISTORY = date(1900, 1, 1)


def extract_with(cfg: Config, url: str, period: Period, **kw: Any) -> dict[str, pl.DataFrame]:
    """The extract with the config's SQL folder, read engine, lock timeout and connections
    (``[source]``)."""
    from pipelines.source.extract import extract

    kw.setdefault("connections", cfg.source.connections)
    return extract(url, period, cfg.path(cfg.paths.sql_dir), engine=cfg.source.read_engine,
                   lock_timeout=cfg.source.lock_timeout, **kw)


def feed_people_outside_scope(tables: dict[str, pl.DataFrame], feeds: Any) -> pl.Series:
    """Person ids matched by a provider feed whose details the extract did not read.

    The extract reads person details for the people with a step, service or carer
    relationship touching the window (``:lookback_start`` .. period end). Someone on a
    long equipment loan or at the carers' centre can have all their own case activity before
    it (person 100878 of the sample: steps in 2024-02, equipment in place since, an open
    allocation): matched through the feed, but with no details and no team."""
    frames: dict[str, pl.DataFrame] = getattr(feeds, "frames", None) or {}
    ids = [f.get_column("_person_id").cast(pl.Int64) for f in frames.values() if f.height]
    if not ids or "persons" not in tables:
        return pl.Series("person_id", [], pl.Int64)
    known = tables["persons"].get_column("person_id").cast(pl.Int64)
    matched = pl.concat(ids).drop_nulls().unique()
    return matched.filter(~matched.is_in(known.implode())).sort().rename("person_id")


def add_feed_people(
    cfg: Config, url: str, period: Period, tables: dict[str, pl.DataFrame], feeds: Any
) -> tuple[dict[str, pl.DataFrame], int]:
    """The person-level tables of the feed's people outside the extract's scope, read in a
    second pass over the same SQL files with the window opened to all history, kept for
    those people only and added to the tables. Returns (tables, people added)."""

    missing = feed_people_outside_scope(tables, feeds)
    if missing.is_empty():
        return tables, 0
    names = {n for n in PERSON_TABLES if n in tables}
    ids = missing.to_list()
    more = extract_with(
        cfg, url, period,
        only=names,
        lookback_start=ALL_HISTORY,
        # only their rows from the server (tables whose first pass has a person_id column)
        person_ids={n: ids for n in names if "person_id" in tables[n].columns},
    )
    out = dict(tables)
    wanted = missing.implode()
    for name, frame in more.items():
        if "person_id" not in frame.columns:
            continue
        extra = frame.filter(pl.col("person_id").cast(pl.Int64).is_in(wanted))
        if extra.height:
            out[name] = pl.concat([tables[name], extra], how="vertical_relaxed")
    added = out["persons"].height - tables["persons"].height
    return out, added


def _quarantine_rows(files: Any) -> list[dict[str, Any]]:
    """Quarantined feed files as the build summary lists them."""
    return [
        {
            "file": q.file,
            "reason": q.reason,
            "moved_to": str(q.moved_to) if q.moved_to else None,
            "since": q.since,
        }
        for q in files
    ]


def _feed_summary(feeds: Any, feeds_dir: Path) -> dict[str, Any]:
    if feeds is None:
        return {"folder_found": False, "folder": str(feeds_dir)}
    return {
        "folder_found": True,
        "processed": list(feeds.processed),
        "quarantined": _quarantine_rows(feeds.quarantined),
        "held_in_quarantine": _quarantine_rows(feeds.held),
        "unmatched_rows": feeds.unmatched.height,
        "conflicts": feeds.conflicts.height,
        "row_errors": feeds.row_errors.height,
    }


def make_summary(
    cfg: Config,
    period: Period,
    release: str,
    header_style: str,
    path: Path,
    result: Any,
    feeds: Any,
    timings: dict[str, float],
) -> dict[str, Any]:
    frame = result.frame
    return {
        "council": cfg.council.la_code,
        "period": str(period),
        "reporting_period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "release": release,
        "header_style": header_style,
        "file": path.name,
        "rows": frame.height,
        "people": frame.get_column("_person_id").n_unique() if frame.height else 0,
        "rows_by_event_type_and_month": result.counts,
        "unmapped": result.unmapped.to_dicts(),
        "excluded": result.excluded,
        "feeds": _feed_summary(feeds, cfg.path(cfg.paths.feeds_dir)),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
        "built_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def _write_json(data: dict[str, Any], path: Path) -> None:
    """Atomic like the submission file: temp file, fsync, replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build(
    cfg: Config,
    period: Period,
    release: str | None = None,
    source: str | None = None,
    header_style: str | None = None,
    out: Path | str | None = None,
    progress: Progress | None = None,
    gzip: bool | None = None,
    warm_checks: bool = False,
    quarantine: bool = True,
) -> BuildResult:
    """Build the submission for ``period`` (see the module docstring). ``warm_checks``: the
    checks follow in this process (a quarterly run), so Great Expectations' import starts in
    the background when the transform begins: the transform is polars work that releases the
    GIL, where the extract and the feed files are Python work the import would slow.
    ``quarantine=False`` (a dry run): provider files that break their contract are left in
    the feeds folder (not used, still listed) instead of moved to quarantine."""
    from cld_schema import load_spec
    from pipelines.mappings import MappingError
    from pipelines.source.extract import ExtractError
    from pipelines.source.feeds import FeedError
    from pipelines.submission import SubmissionError, write_submission
    from pipelines.transform import transform

    _not_in_the_future(period)
    release = choose_release(cfg, period, release)
    style = header_style or cfg.submission.header_style
    if style not in ("label", "database"):
        raise BuildError(f"header style {style!r} is not 'label' or 'database'")
    use_gzip = cfg.submission.gzip if gzip is None else gzip
    path = Path(out) if out else default_path(cfg, period, release, use_gzip)
    url = source or cfg.database_url
    _check_source(url)
    tick: Progress = progress or (lambda stage, done, total: None)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    # The provider files are read and checked in a thread while the extract waits on the
    # database (reading them needs no people and moves nothing); matched after it.
    with ThreadPoolExecutor(1, thread_name_prefix="cld-feeds") as pool:
        feed_files = pool.submit(_read_feed_files, cfg)
        try:
            tables = extract_with(
                cfg, url, period,
                progress=lambda name, done, total: tick("extract", done, total),
            )
        except ExtractError as exc:
            raise BuildError(f"cannot read the case-management database: {exc}") from exc
        timings["extract"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        tick("feeds", 0, 1)
        try:
            feeds = _feeds(cfg, tables, feed_files.result(), move=quarantine)
        except FeedError as exc:
            raise BuildError(f"provider feeds: {exc}") from None
    feeds_dir = cfg.path(cfg.paths.feeds_dir)
    if feeds is None:
        log.warning("no provider files: the feeds folder %s does not exist ([paths] feeds_dir)",
                    feeds_dir)
    elif not feeds.processed and not feeds.quarantined:
        log.warning("no provider files: the feeds folder %s is empty (carers' and equipment "
                    "files go there)", feeds_dir)
    try:
        tables, feed_people = add_feed_people(cfg, url, period, tables, feeds)
    except ExtractError as exc:
        raise BuildError(f"cannot read the case-management database: {exc}") from exc
    tick("feeds", 1, 1)
    timings["feeds"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    tick("transform", 0, 1)
    if warm_checks:
        from checks.gx_import import start_gx_import

        # GX imports in a thread while the transform runs (polars: the GIL is free). Not in
        # a process of its own, as `cld check` does: here both cores are busy with the
        # transform and the file's writing, and a child importing GX took one of them (the
        # quarterly run 1.1-1.5 s slower in two back-to-back pairs, 2026-12-02 21:14-22:15)
        start_gx_import()
    try:
        result = transform(
            tables,
            feeds,
            period,
            release,
            cfg.path(cfg.paths.mappings_dir),
            cfg.council.la_code,
        )
    except MappingError as exc:
        raise BuildError(str(exc)) from None
    tick("transform", 1, 1)
    timings["transform"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    tick("write", 0, 1)
    try:
        written = write_submission(result.frame, load_spec(release), path, style, gzip=use_gzip)
    except SubmissionError as exc:
        raise BuildError(f"the submission file was not written: {exc}") from None
    timings["write"] = time.perf_counter() - t0
    summary = make_summary(cfg, period, release, style, written, result, feeds, timings)
    summary["feed_people_outside_scope"] = feed_people  # details read in the second pass
    summary_path = summary_path_for(written)
    _write_json(summary, summary_path)
    tick("write", 1, 1)
    return BuildResult(
        path=written,
        summary_path=summary_path,
        summary=summary,
        frame=result.frame,
        unmapped=result.unmapped,
        quarantined=list(feeds.quarantined) if feeds is not None else [],
        held=list(feeds.held) if feeds is not None else [],
    )
