"""The quarterly submission run and the nightly DQ run, as plain functions.

Each step is one function over the stages (``pipelines.build``, ``checks``,
``pipelines.history``, ``pipelines.outputs``). ``cld run quarterly`` / ``cld run nightly`` call
:func:`quarterly` / :func:`nightly`, which chain the steps in order; the Prefect flows in
``flows/`` wrap the very same step functions as tasks (adding retries, schedules and the UI),
so the shell and the flows always do the same thing.

What a run decides lives here, not in the flows:

* the file is built into a staging folder and moved into the output folder only when no
  error blocks it (or ``build_anyway``), in the instant before the run's history commit: a
  run that fails to record puts the earlier files back, and one killed in that instant is
  settled by the next run (``pipelines.history.store.Placement``), so the output folder
  holds the file history records;
* a dry run builds and checks only: nothing goes into history or the output folder;
* the nightly build is not kept as a submission, only its findings (the DQ trend), so "the
  previous submission" stays the last quarterly one.

Results carry counts, ids and paths only, never personal data.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cld_schema.errors import CldError
from pipelines.config import Config
from pipelines.period import Period, RollingYear

if TYPE_CHECKING:
    from checks.thresholds import CheckThresholds

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class BlockedSubmission(RuntimeError):
    """Errors in the return block its submission; ``outcome`` holds what the run did
    (recorded run, report, team lists) so the caller can still show it."""

    def __init__(self, message: str, outcome: RunOutcome | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome


class DeliveryFailed(RuntimeError):
    """Some teams' exception lists could not be delivered (the others were); ``outcome``
    holds what the run did."""

    def __init__(self, message: str, outcome: RunOutcome | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome


class NoEvents(RuntimeError):
    """Months of the run's period hold no events (the national complete-month test): the run
    is recorded and its team lists written, but nothing is sent to the teams; ``outcome``
    holds what the run did."""

    def __init__(self, message: str, outcome: RunOutcome | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome


def source_label(cfg: Config) -> str:
    """Where the data came from, without credentials."""
    return "environment database" if os.environ.get("CLD_DATABASE_URL") else "embedded sample"


def check_settings(cfg: Config) -> None:
    """Read the files the configuration names before the long build, so a setting that
    names no file, or a broken one, is one clear error at once (not ignored, not late)."""
    from pipelines import thresholds
    from pipelines.config import ConfigError
    from pipelines.outputs.delivery import load_directory

    for key, folder, what in (("mappings_dir", cfg.paths.mappings_dir, "the mapping tables"),
                              ("sql_dir", cfg.paths.sql_dir, "the extract's SQL folder")):
        where = cfg.path(folder)
        if not where.is_dir():  # said before the extract, not after the feeds
            raise ConfigError(f"{cfg.file}: key [paths] {key}: no such folder {where} ({what})")
    thresholds.load(cfg)
    load_directory(cfg.path(cfg.delivery.directory))


def history_ready(cfg: Config) -> None:
    """Open history before the long build, so a damaged, read-only or busy history is one
    clear error at once; a placement a killed run left half done is settled here."""
    from pipelines.history import History

    with History.open(cfg.path(cfg.paths.history_db)) as h:
        h.settle_pending()


def last_complete_quarter(today: date | None = None) -> Period:
    """The quarter a scheduled quarterly run submits: the latest one that has ended by
    ``today`` (default the real date; runs pass ``cfg.today()``, i.e. ``[runs] reference_date``)."""
    return Period.latest_ended(today or date.today())


def default_period(cfg: Config) -> Period:
    """The period a run takes when none is named: the last complete quarter by the config's
    today (``[runs] reference_date``, else the real date). ``cld run quarterly``, ``cld cqc``
    and the flows all take it from here, so they never disagree for the same config."""
    return last_complete_quarter(cfg.today())


def empty_months(cfg: Config, frame: Any, release: str, period: Any) -> str | None:
    """One line when months of ``period`` fail the national complete-month test (fewer than
    ``complete_months: min_events`` requests, assessments or services in a month, as the
    thresholds file sets it; rules.md section 2), else None."""
    import polars as pl

    from checks.quantitative import monthly_counts
    from cld_schema import load_spec
    from pipelines import thresholds

    cm = thresholds.load(cfg).checks.complete_months
    keys = list(cm.event_types)
    least = int(cm.min_events)
    counts = monthly_counts(frame, load_spec(release), period.start, period.end)
    keys = [k for k in keys if k in counts.columns]
    if not keys:
        return None
    bad = counts.filter(pl.any_horizontal([pl.col(k) < least for k in keys]))
    if bad.is_empty():
        return None
    months = sorted(m for m in bad.get_column("month").to_list())
    spans: list[list[date]] = []
    for m in months:
        if spans and (m.year * 12 + m.month) - (spans[-1][-1].year * 12 + spans[-1][-1].month) == 1:
            spans[-1].append(m)
        else:
            spans.append([m])
    text = ", ".join(
        f"{g[0]:%Y-%m}" if len(g) == 1 else f"{g[0]:%Y-%m} to {g[-1]:%Y-%m}" for g in spans
    )
    names = [k.lower() + "s" for k in keys]
    kinds = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    return (
        f"{len(months)} of {counts.height} months of {period.start} to {period.end} ({text}) "
        f"fail the national complete-month test (each month needs at least {least} of each of "
        f"{kinds}): the data stop before the period or a load failed, so the team lists are "
        "not sent"
    )


def dry_run_outputs(
    cfg: Config, period: Period, built: Any, checked: Any, reports: Path, docs: Path | None
) -> dict[str, Any]:
    """A dry run's DQ report and team lists, from the rows and findings in hand (nothing read
    from or written to history, nothing delivered)."""
    from cld_schema import load_spec
    from pipelines import thresholds
    from pipelines.outputs import write_exception_lists
    from pipelines.outputs.delivery import load_directory
    from pipelines.outputs.report import ReportInputs, save_report

    spec = load_spec(built.summary["release"])
    label = f"{period}-dry-run"
    inp = ReportInputs(
        findings=checked.findings, frame=built.frame, spec=spec, run_id=label,
        council=cfg.council.name, thresholds=thresholds.load(cfg).checks,
        data_docs=docs if docs is not None and docs.exists() else None,
        period_label=str(period), period=(period.start, period.end), kind="check",
        cutoff=period.end, build=built.summary, file_measures=checked.measures,
        national=national_cells(built.frame, spec, checked.findings, period),
    )  # fmt: skip
    report = save_report(inp, reports / f"dq_report_{label}.html")
    directory = load_directory(cfg.path(cfg.delivery.directory))
    folder = cfg.path(cfg.paths.output_dir) / "exceptions" / label
    lists = write_exception_lists(
        checked.findings, folder, run_id=label,
        teams=[(c.team_id, c.team_name) for c in directory.values()],
        council=cfg.council.name, period=str(period),
    )  # fmt: skip
    return {"DQ report": str(report), **lists_summary(lists, folder)}


# -- steps ------------------------------------------------------------------------------------
def build_step(
    cfg: Config,
    period: Period,
    release: str | None,
    header_style: str | None,
    out: Path | None,
    progress: Callable[[str, int, int], None] | None = None,
    warm_checks: bool = False,
    quarantine: bool = True,
) -> Any:
    """Extract → provider feeds → transform → file (what ``cld build`` runs); ``warm_checks``
    when the checks follow in this process, ``quarantine=False`` for a dry run (see
    :func:`pipelines.build.build`)."""
    from pipelines.build import build

    return build(cfg, period, release=release, header_style=header_style, out=out,
                 progress=progress, warm_checks=warm_checks, quarantine=quarantine)


def previous_step(cfg: Config, period: Period | None = None) -> tuple[int | None, Any]:
    """The submission a build of ``period`` is compared with, and its rows: an earlier one of
    the same quarter (a resubmission), else the latest of the quarter before (or the nearest
    earlier one); never a later quarter (``History.previous_submission``)."""
    from pipelines.history import History

    with History.open(cfg.path(cfg.paths.history_db)) as h:
        prev = h.previous_submission(None if period is None else str(period))
        return (prev.id, h.submission_frame(prev.id)) if prev else (None, None)


def checks_step(
    cfg: Config,
    frame: Any,
    release: str,
    period: Period,
    previous: Any,
    docs_dir: Path | None,
) -> Any:
    """Field contract, logical rules and quantitative expectations on the built rows."""
    from checks import run_checks
    from cld_schema import load_spec
    from pipelines import thresholds

    return run_checks(
        frame,
        load_spec(release),
        previous=previous,
        period=period,
        thresholds=thresholds.load(cfg).checks,
        data_docs_dir=docs_dir,
    )


def record_step(
    cfg: Config,
    kind: str,
    period: Period,
    release: str,
    frame: Any,
    findings: Any,
    submission: Path | None,
    waiting: Any = None,
    place: list[tuple[Path, Path]] | None = None,
    started_at: Any = None,
    ready: bool | None = None,
    known: dict[int, Any] | None = None,
    measures: Any = None,
) -> dict[str, int]:
    """Keep the run, the built rows (quarterly) and the findings in history, atomically; a
    nightly run also resolves NHS-number feedback against today's records and keeps the
    waiting-now figures (``waiting``, pipelines.cqc.trend). ``place`` lists (staged, final)
    files moved into the output folder in the instant before the commit, so the folder holds
    a file exactly when history records it. ``known`` holds recorded submissions' rows the
    caller already read (by submission id), so the measures' look-backs do not read them
    again; ``measures``, the measures already being computed (:func:`measures_ahead`)."""
    from pipelines.history import History
    from pipelines.history.feedback import resolve as resolve_feedback

    out: dict[str, Any] = {}
    with (
        History.open(cfg.path(cfg.paths.history_db)) as h,
        h.run(kind, str(period), release, source_label(cfg), started_at=started_at) as run,
    ):
        if ready is not None:
            run.counts["ready"] = ready  # `cld history runs` shows a not-ready build as blocked
        if kind == "nightly":
            resolved = resolve_feedback(h, frame, run.id)
            out["feedback"] = {k: int(v) for k, v in resolved.items()}
            if waiting is not None and waiting.height:
                run.add_waiting(waiting)
        else:
            for staged, final in place or []:
                run.place(staged, final)
            out["submission_id"] = run.add_submission(submission, frame)
            out.update(
                measures_record(
                    cfg, h, run, out["submission_id"], frame, period, release, known=known,
                    ahead=measures,
                )
            )
        run.add_findings(findings)
        out["run_id"] = run.id
    return out


def measures_record(cfg: Config, h: Any, run: Any, submission_id: int, frame: Any,
                    period: Period, release: str,
                    known: dict[int, Any] | None = None, ahead: Any = None) -> dict[str, Any]:
    """The SALT/ASCOF preview figures of a recorded submission, kept in the same history run;
    measures.csv and the analysts' drill-downs go to ``reports/measures_run<N>/``. A failure
    here never loses the run: it is reported by type only (messages can carry personal data).
    ``ahead``: the figures already being computed (:func:`measures_ahead`)."""
    from pipelines.measures.history import record_step as measures_step

    out_dir = cfg.path(cfg.paths.output_dir) / "reports" / f"measures_run{run.id}"
    try:
        return measures_step(h, run, submission_id, frame, period, release, out_dir, known=known,
                             ahead=ahead)
    except Exception as exc:
        return {"measures": f"not computed ({type(exc).__name__})"}


def measures_ahead(cfg: Config, frame: Any, period: Period, release: str,
                   known: dict[int, Any] | None = None) -> Any:
    """The measures of a build about to be recorded, computed in a thread while its checks
    run (a future for :func:`record_step`'s ``measures``); None when history cannot be read
    (the record step then computes them itself, and reports a failure as it does)."""
    from pipelines.history import History
    from pipelines.measures.history import measure_ahead

    try:
        with History.open(cfg.path(cfg.paths.history_db)) as h:
            return measure_ahead(h, frame, period, release, known=known)
    except Exception:
        return None


TOTAL_WORDS = {  # the comparison's totals in words, for people (no raw key names)
    "added": "events added",
    "dropped": "events dropped",
    "dropped_left_window": "events dropped because they left the reporting window",
    "changed": "events changed",
    "unchanged": "events unchanged",
    "vanished_people": "people no longer in the file",
    "vanished_unexplained": "people gone, not explained by the window",
}


FEEDBACK_WORDS = {"resolved": "NHS numbers now in the record (feedback resolved)",
                  "conflict": "NHS numbers the record holds differently (feedback conflict)"}


def compare_step(
    cfg: Config, previous_id: int | None, submission_id: int, out_dir: Path
) -> tuple[dict[str, Any], str, Any]:
    """Compare with the previous submission: detail to CSV files; counts, text and the
    :class:`~pipelines.history.compare.Comparison` back (the DQ report is handed the same
    comparison: one quarterly run compares once). The comparison holds person ids, so the
    flow keeps it in memory only."""
    from pipelines import thresholds
    from pipelines.history import History
    from pipelines.history.compare import compare
    from pipelines.outputs.comparison_files import write_comparison

    if previous_id is None:
        return {"compared with": "(no earlier submission)"}, "", None
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        result = compare(
            h, previous_id, submission_id, thresholds.load(cfg, missing_ok=True).compare
        )
        files = write_comparison(result, out_dir)
    facts = {
        "compared with": f"submission {previous_id}",
        **{TOTAL_WORDS.get(k, k.replace("_", " ")): v for k, v in result.totals().items()},
        "comparison warnings": len(result.warnings),
        "comparison files": str(out_dir) if files else "(none)",
    }
    return facts, result.summary_text(), result


def report_step(cfg: Config, run_id: int, out_dir: Path, data_docs: Path | None,
                comparison: Any = None, measures: Any = None) -> Path:
    """The self-contained HTML DQ report of a recorded run (what ``cld report --run`` writes).
    ``comparison`` and ``measures``: the comparison the run already made and its checks'
    ``CheckResult.measures`` (else compared and measured again)."""
    docs = data_docs if data_docs is not None and data_docs.exists() else None
    return write_run_report(cfg, run_id, out_dir, data_docs=docs, comparison=comparison,
                            measures=measures)


def quarantine_text(new: list[Any], held: list[Any]) -> int | str:
    """The run's count of provider files missing from the build: quarantined now, and still in
    quarantine from earlier runs (not re-sent), with since when."""
    if not held:
        return len(new)
    since = min((q.since or "")[:10] for q in held) or "an earlier run"
    now = f"{len(new)} this run, " if new else ""
    return (f"{len(new) + len(held)} ({now}{len(held)} still in quarantine since {since}, "
            "not re-sent)")


def _quarantine_fact(built: Any, dry_run: bool) -> int | str:
    text = quarantine_text(built.quarantined, built.held)
    if dry_run and built.quarantined:
        return (f"{text} (dry run: the {len(built.quarantined)} breaking their contract now are "
                "left in the feeds folder, not used; a real run quarantines them)")
    return text


def keep_run_facts(reports: Path, run_id: int, summary: dict[str, Any]) -> None:
    """Keep the build summary's unmapped codes and quarantined files beside the run's report
    (the history does not hold them), so the report, made now or again later, shows them."""
    from pipelines.outputs.facts import save_run_facts

    save_run_facts(reports, run_id, build=summary)


def lists_summary(lists: Any, folder: Path) -> dict[str, Any]:
    """The team lists written, as a dry run and the flows' step report them."""
    return {
        "teams": len(lists.teams),
        "all clear": sum(1 for t in lists.teams if t.all_clear),
        "unallocated findings": lists.unallocated_count,
        "exception lists": str(folder),
    }


def exceptions_step(cfg: Config, run_id: int, deliver: bool = True) -> dict[str, Any]:
    """Every team's workbook for a recorded run; delivered by e-mail or to folders as
    ``[delivery]`` says (what ``cld exceptions --run N --deliver`` does)."""
    from pipelines.outputs.delivery import deliver as deliver_lists

    made = exception_lists(cfg, run=run_id, directory_required=True)
    lists, folder = made.lists, made.folder
    out = lists_summary(lists, folder)
    if deliver:
        report = deliver_lists(lists, cfg)
        failed = sorted(o.team_id for o in report.failed)
        out.update(
            {
                "delivered": len(report.outcomes) - len(failed),
                "failed teams": failed,
                "delivery report": str(report.path),
            }
        )
        if report.unreachable:
            out["not delivered"] = (f"{report.unreachable}; the lists stay in {folder}: "
                                    f"deliver them later with `cld exceptions --run {run_id} "
                                    "--deliver`")
    return out


# -- what the outputs are handed -----------------------------------------------------------------
def national_cells(frame: Any, spec: Any, findings: Any = None, period: Any = None) -> Any:
    """Per national module and field, the cells the national DQ report counts as failed
    (``checks.national.national_dq``, docs/contracts.md "The national picture"); None
    without a file."""
    if frame is None or spec is None:
        return None
    from checks.national import national_dq

    return national_dq(frame, spec, findings, period=period)


def file_measures(frame: Any, spec: Any, period: Any = None) -> Any:
    """Completeness per field and monthly counts of a file the checks did not just measure
    (a run read back from history, a file given to ``cld report --cld``); a run's own
    ``CheckResult.measures`` is handed on instead. None without a file."""
    if frame is None or spec is None:
        return None
    from checks.quantitative import file_measures as measure

    return measure(frame, spec, period)


def check_now(cfg: Config, period: Period, *, quantitative: bool = False,
              data_docs_dir: Path | None = None) -> Any:
    """Build ``period`` from the case system and check it now, without touching the history
    or the output folder's submission file (``cld report --period``, ``cld exceptions
    --period``): the frame keeps each event's owning team, which a submission file read back
    does not have, so the team lists can be scoped. The history's open feedback and trend
    are added when a history exists. Returns :class:`pipelines.history.read.RunInputs`."""
    import tempfile

    from checks import run_checks
    from cld_schema import load_spec
    from pipelines import thresholds
    from pipelines.build import build
    from pipelines.history.read import RunInputs

    with tempfile.TemporaryDirectory(prefix="cld-outputs-") as tmp:
        built = build(cfg, period, out=Path(tmp) / "submission.csv")
    spec = load_spec(built.summary["release"])
    label = f"{period}-now"
    checked = run_checks(built.frame, spec, quantitative=quantitative,
                         thresholds=thresholds.load(cfg).checks, data_docs_dir=data_docs_dir)
    out = RunInputs(run_id=None, findings=checked.findings, previous=None, feedback=None,
                    trend=None, frame=built.frame, spec=spec,
                    data_docs=Path(checked.data_docs) if checked.data_docs else None,
                    label=label, list_id=label, kind="check", period=str(period),
                    file_measures=checked.measures)
    path = cfg.path(cfg.paths.history_db)
    if path.exists():
        from pipelines.history import History

        with History.open(path) as h:
            out.feedback, out.trend = h.feedback_items(), h.trend()
            out.feedback_numbers = h.feedback_numbers()
    return out


def inputs_for(cfg: Config, *, run: int | None = None, findings: Path | None = None,
               previous: Path | None = None, period: str | None = None,
               with_submission: bool = False, quantitative: bool = False,
               data_docs_dir: Path | None = None, comparison: Any = None) -> Any:
    """What ``cld report`` and ``cld exceptions`` are handed, from one of three places: a
    findings file from ``cld check`` (``findings``, with ``previous`` for the counts sheet),
    a period built and checked now (``period``), or a run in the history (``run``, default
    the latest checked run; ``with_submission`` adds its submission, comparison and
    figures, ``comparison`` the one the caller already made). Returns
    :class:`pipelines.history.read.RunInputs`."""
    from pipelines.history.read import RunInputs, SourceError, read_findings

    if sum(x is not None for x in (run, findings, period)) > 1:
        raise SourceError("give one of --run, --findings or --period")
    if findings is not None:
        return RunInputs(run_id=None, findings=read_findings(findings),
                         previous=read_findings(previous) if previous else None,
                         feedback=None, trend=None, label=findings.parent.name or "findings",
                         kind="check")
    if period is not None:
        return check_now(cfg, Period.parse(period), quantitative=quantitative,
                         data_docs_dir=data_docs_dir)
    from pipelines import thresholds as thresholds_file
    from pipelines.history import History
    from pipelines.history.read import read_run

    path = cfg.path(cfg.paths.history_db)
    if not path.exists():
        raise SourceError(f"no history at {path} ([paths] history_db): run `cld build` first, "
                          "or give --findings FILE")
    thresholds = thresholds_file.load(cfg, missing_ok=True).compare if with_submission else None
    with History.open(path) as h:
        return read_run(h, run, with_submission=with_submission, thresholds=thresholds,
                        comparison=comparison)


def team_list_inputs(cfg: Config, got: Any) -> dict[str, Any]:
    """What the team lists take from a run besides its findings: the period and council for
    titles and e-mails, the traced NHS numbers (owning team's list only) and the build's
    unmapped local codes (analyst's list), kept beside the run's report."""
    from pipelines.outputs.facts import run_facts

    kept = run_facts(cfg.path(cfg.paths.output_dir) / "reports", got.run_id) if got.run_id else {}
    return {"period": got.period, "council": cfg.council.name,
            "feedback_numbers": got.feedback_numbers,
            "unmapped": (kept.get("build") or {}).get("unmapped")}


@dataclass
class ListsOutcome:
    """What :func:`exception_lists` did: the lists written (``pipelines.outputs``'s
    ExceptionLists), their folder and id, and the delivery report when delivered."""

    lists: Any
    folder: Path
    list_id: Any
    delivery: Any = None


def exception_lists(cfg: Config, *, run: int | None = None, findings: Path | None = None,
                    previous: Path | None = None, period: Period | None = None,
                    out: Path | None = None, deliver: bool = False,
                    mode: str | None = None,
                    directory_required: bool = False) -> ListsOutcome:
    """Every team's exception list (what ``cld exceptions`` writes) from a recorded run
    (``run``, default the latest checked one), a findings file of ``cld check``
    (``findings``, ``previous`` for the counts sheet) or ``period`` built and checked now,
    into ``out`` (default ``<output_dir>/exceptions/<label>``); with ``deliver`` sent as
    ``[delivery]`` (or ``mode``) says, unless the findings carry no owning team (a
    submission file read back has none: everything went to the analyst's list). Without
    the team directory every finding goes to the analyst's list, unless
    ``directory_required`` (the flows' step), when its absence is a ``DirectoryError``."""
    from pipelines.outputs import write_exception_lists
    from pipelines.outputs.delivery import deliver as deliver_lists
    from pipelines.outputs.delivery import load_directory

    directory_path = cfg.path(cfg.delivery.directory)
    directory = (load_directory(directory_path)
                 if directory_required or directory_path.exists() else {})
    teams = [(c.team_id, c.team_name) for c in directory.values()]
    got = inputs_for(cfg, run=run, findings=findings, previous=previous,
                     period=None if period is None else str(period))
    target = out or cfg.path(cfg.paths.output_dir) / "exceptions" / got.label
    lists = write_exception_lists(got.findings, target, run_id=got.list_id, teams=teams,
                                  previous=got.previous, feedback=got.feedback,
                                  trend=got.trend, **team_list_inputs(cfg, got))
    outcome = ListsOutcome(lists, target, got.list_id)
    if deliver and lists.teams_known:
        outcome.delivery = deliver_lists(lists, cfg, mode=mode)
    return outcome


def report(cfg: Config, *, run: int | None = None, findings: Path | None = None,
           cld: Path | None = None, period: Period | None = None, out: Path | None = None,
           data_docs: Path | None = None) -> Path:
    """The self-contained HTML DQ report (what ``cld report`` writes), from one of three
    places: ``period`` built and checked now (nothing recorded; default file
    ``reports/dq_report_<period>-now.html``), a findings file of ``cld check`` (``findings``,
    with ``cld`` the checked file for completeness and volumes), or a recorded run (``run``,
    default the latest checked one). ``out``: the file to write; ``data_docs``: the Data
    Docs folder to link."""
    from pipelines import thresholds
    from pipelines.cldfile import read_cld
    from pipelines.history.read import SourceError
    from pipelines.outputs.report import ReportInputs, save_report

    if sum(x is not None for x in (run, findings, period)) > 1:
        raise SourceError("give one of --run, --findings or --period")
    reports = cfg.path(cfg.paths.output_dir) / "reports"
    if period is not None:
        target = out or reports / f"dq_report_{period}-now.html"
        got = check_now(cfg, period, quantitative=True,
                        data_docs_dir=target.parent / f"data_docs_{period}")
        inp = ReportInputs(
            findings=got.findings, frame=got.frame, spec=got.spec, run_id=got.label,
            council=cfg.council.name, thresholds=thresholds.load(cfg).checks, trend=got.trend,
            data_docs=data_docs or got.data_docs, period_label=str(period),
            period=(period.start, period.end), kind="check", cutoff=period.end,
            national=national_cells(got.frame, got.spec, got.findings, period),
            file_measures=got.file_measures,
        )
        return save_report(inp, target)
    if findings is None:
        path = write_run_report(cfg, run, out.parent if out else reports, data_docs=data_docs)
        return path.replace(out) if out else path
    frame, spec = read_cld(cld) if cld else (None, None)
    docs = data_docs or (findings.parent / "data_docs")
    found = inputs_for(cfg, findings=findings).findings
    inp = ReportInputs(
        findings=found, frame=frame, spec=spec, kind="check",
        council=cfg.council.name, thresholds=thresholds.load(cfg).checks,
        data_docs=docs if docs.exists() else None,
        national=national_cells(frame, spec, found),
        file_measures=file_measures(frame, spec),
    )
    return save_report(inp, out or reports / f"dq_report_{findings.parent.name}.html")


def write_run_report(cfg: Config, run_id: int | None, out_dir: Path, *,
                     data_docs: Path | None = None, comparison: Any = None,
                     measures: Any = None) -> Path:
    """The report for a run kept in the history (default: the latest checked run), written
    to ``out_dir/dq_report_<period>_<kind>_run<id>.html``: its findings, its submission
    (completeness and volumes), the comparison with the previous submission (``comparison``
    when the run already made it), the teams' trend, and what the build kept beside it
    (unmapped codes, quarantined files, Data Docs). ``measures``: the checks'
    ``CheckResult.measures`` of the run's file when the run holds it (else measured here).
    This is what the quarterly flow calls after recording the run, and ``cld report --run``."""
    from pipelines import thresholds
    from pipelines.cqc.trend import read_trend
    from pipelines.outputs.facts import run_facts, save_run_facts
    from pipelines.outputs.report import ReportInputs, report_name, save_report
    from pipelines.period import PeriodError

    out_dir = Path(out_dir)
    run = inputs_for(cfg, run=run_id, with_submission=True, comparison=comparison)
    kept = run_facts(out_dir, run.run_id)
    if data_docs is None and kept.get("data_docs") and Path(kept["data_docs"]).exists():
        data_docs = Path(kept["data_docs"])
    if data_docs is None and (out_dir / "data_docs").exists():
        data_docs = out_dir / "data_docs"
    if data_docs is not None:
        save_run_facts(out_dir, run.run_id, data_docs=data_docs)
    inp = ReportInputs(
        findings=run.findings, frame=run.frame, spec=run.spec, run_id=str(run.run_id),
        council=run.council or cfg.council.name, thresholds=thresholds.load(cfg).checks,
        comparison=run.comparison,
        trend=run.trend, data_docs=data_docs, period_label=run.period or "",
        kind=run.kind or "", cutoff=run.cutoff, build=kept.get("build"),
        measures=run.measures,
    )
    period = None
    if run.period:
        try:
            period = Period.parse(run.period)
            inp.period = (period.start, period.end)
        except PeriodError:
            period = None
    inp.national = national_cells(run.frame, run.spec, run.findings, period)
    inp.file_measures = measures if measures is not None else file_measures(run.frame, run.spec,
                                                                            period)
    inp.waiting = read_trend(cfg)
    return save_report(inp, out_dir / report_name(run.period or "", run.kind or "", run.run_id))


def checklist_mistakes(cfg: Config, team: str | None = None) -> tuple[Any, str]:
    """The latest recorded run's mistakes (one team's, by id or name, when given) and a
    line saying where they come from; (None, "") when no run is recorded (the recording
    checklist's "most frequent mistakes" column, ``cld spec checklist``)."""
    import polars as pl

    from pipelines.history import History
    from pipelines.history.read import check_runs, run_findings
    from pipelines.outputs.checklist import frequent_mistakes

    path = cfg.path(cfg.paths.history_db)
    if not path.exists():
        return None, ""
    with History.open(path) as h:
        runs = check_runs(h)
        if runs.is_empty():
            return None, ""
        last = runs.row(-1, named=True)
        findings = run_findings(h, int(last["id"]))
    if team is not None:
        findings = findings.filter((pl.col("team_id").cast(pl.String) == team)
                                   | (pl.col("team_name") == team))
    what = f"team {team}, " if team else ""
    return frequent_mistakes(findings), (f"Most frequent mistakes: {what}run {last['id']} "
                                         f"({last['period']}), fixes per problem")


FEEDBACK_SUFFIXES = {".csv", ".txt", ".xlsx", ".gz"}


def submitted_period(cfg: Config) -> Period | None:
    """The quarter of the latest submission in history (the one NHS-number feedback
    answers); None without a history, a submission, or when it is a nightly rolling year."""
    from pipelines.history import History
    from pipelines.period import PeriodError

    path = cfg.path(cfg.paths.history_db)
    if not path.exists():
        return None
    with History.open(path) as h:
        latest = h.latest_submission()
    if latest is None or not latest.period:
        return None
    try:
        return Period.parse(latest.period)
    except PeriodError:  # a nightly run's rolling year: not a quarter
        return None


def case_people(cfg: Config, period: Period | None) -> tuple[Any, Any]:
    """Persons and current team allocations (with team names) from the case-management
    database, read with the council's extract SQL for ``period`` (default the config's
    default period)."""
    import polars as pl

    from pipelines.build import extract_with

    tables = extract_with(cfg, cfg.database_url, period or default_period(cfg))
    teams = tables["teams"].select(pl.col("team_id"), pl.col("team_name").cast(pl.String))
    allocations = tables["allocations"].join(teams, on="team_id", how="left")
    return tables["persons"], allocations


def feedback_step(cfg: Config, path: Path, *, case_db: bool = False,
                  period: Period | None = None) -> dict[str, Any]:
    """Take in one NHS-number feedback file (what ``cld feedback FILE`` and the feedback
    flow do). Person ids are checked, and numbers routed to teams, against the latest
    submission in history, or with ``case_db`` against the case-management database's
    persons and allocations for ``period`` (default the latest submission's quarter, else the
    default period). A quarantined file, or one taken in before, is a ``status``
    ("quarantined", "already taken in") with a one-line ``message``, not an exception. The
    result holds counts and team names only (no NHS numbers, no person ids)."""
    from dataclasses import asdict

    from pipelines.history import History
    from pipelines.history.feedback import FeedbackAlreadyTaken, FeedbackQuarantined, ingest
    from pipelines.source.feedback import FeedbackLayout

    persons = allocations = None
    if case_db:
        persons, allocations = case_people(cfg, period or submitted_period(cfg))
    layout = FeedbackLayout.load(cfg.path(cfg.feedback.layout))
    try:
        with History.open(cfg.path(cfg.paths.history_db)) as h:
            res = ingest(h, path, layout, cfg.path(cfg.paths.quarantine_dir),
                         persons=persons, allocations=allocations)
    except FeedbackQuarantined as exc:
        return {"file": path.name, "status": "quarantined", "reason file": str(exc.reason_file),
                "message": str(exc)}
    except FeedbackAlreadyTaken as exc:
        return {"file": path.name, "status": "already taken in", "message": str(exc)}
    return {
        "file": path.name,
        "status": "taken in",
        **{k: v for k, v in asdict(res).items() if isinstance(v, int)},
        "rejected rows": sum(res.rejected.values()),
        "set aside rows": sum(res.set_aside.values()),
        "action needed": res.action_needed,
        "teams": len(res.by_team),
        "rejected by problem": dict(sorted(res.rejected.items())),
        "set aside by reason": dict(sorted(res.set_aside.items())),
        "set aside file": None if res.set_aside_file is None else str(res.set_aside_file),
        "by team": dict(sorted(res.by_team.items())),
    }


def waiting_feedback(path: Path) -> list[Path]:
    """A feedback file, or the files waiting in an inbox folder."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"feedback path {path} does not exist")
    return sorted(
        p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FEEDBACK_SUFFIXES
    )


def feedback(
    cfg: Config, path: Path, step: Callable[..., dict[str, Any]] = feedback_step,
    *, case_db: bool = False, period: Period | None = None,
) -> list[dict[str, Any]]:
    """Take in a feedback file, or every file waiting in an inbox folder (each then moved to
    the inbox's ``processed/`` subfolder, so it is picked up once); ``case_db``/``period`` as
    for :func:`feedback_step`."""
    results = []
    for f in waiting_feedback(path):
        result = step(cfg, f, case_db=case_db, period=period)
        results.append(result)
        if path.is_dir() and f.exists():
            if result.get("status") == "quarantined":
                f.unlink()  # its verified copy is in quarantine: out of the inbox, once
                continue
            done = path / "processed"
            done.mkdir(exist_ok=True)
            shutil.move(f, done / f.name)
    return results


# -- checking a submission file ---------------------------------------------------------------
class CheckFileError(CldError):
    """A file or folder ``cld check`` cannot take: none found, a findings folder it cannot
    make, a thresholds file it cannot use."""


@dataclass
class FileCheck:
    """One file checked (or not): its findings folder, its summary (counts by rule and
    module, ready or not; None when the file could not be read, ``error`` then says why),
    the national DQ picture and Data Docs, and the history run when it was recorded."""

    file: Path
    folder: Path
    summary: dict[str, Any] | None = None
    national: Any = field(default=None, repr=False)
    data_docs: Path | None = None
    period: str | None = None
    error: str | None = None
    run_id: int | None = None

    @property
    def ready(self) -> bool:
        return bool(self.summary and self.summary["ready"])


@dataclass
class CheckOutcome:
    """What :func:`check_file` did: one :class:`FileCheck` per file, in the files' order; the
    findings folder (one file) or the folder of the files' folders; ``summary_csv``: with
    several files, one row per file. Counts, paths and rule texts only."""

    files: list[FileCheck]
    base: Path
    summary_csv: Path | None = None

    @property
    def ready(self) -> bool:
        return all(f.ready for f in self.files)

    @property
    def facts(self) -> dict[str, Any]:
        checked = [f for f in self.files if f.summary is not None]
        return {
            "files": len(self.files),
            "ready to submit": sum(1 for f in checked if f.ready),
            "unreadable": len(self.files) - len(checked),
            "rows": sum(int(f.summary["rows"]) for f in checked),
            "errors": sum(int(f.summary["errors"]) for f in checked),
            "warnings": sum(int(f.summary["warnings"]) for f in checked),
            "findings": str(self.files[0].folder if len(self.files) == 1 else self.base),
            "history runs": [f.run_id for f in self.files if f.run_id is not None],
        }


def check_paths(args: Path | list[Path]) -> list[Path]:
    """The files to check: each argument a file, a folder (its ``*.csv`` and ``*.csv.gz``,
    sorted) or a glob pattern the shell did not expand (``'returns/*.csv'``)."""
    import glob

    out: list[Path] = []
    for a in [args] if isinstance(args, Path) else args:
        a = Path(a)
        if a.is_dir():
            files = sorted(p for p in a.iterdir() if p.is_file() and not p.name.startswith("."))
            found = [p for p in files if p.name.lower().endswith((".csv", ".csv.gz"))]
            if not found:
                raise CheckFileError(f"{a}: is a folder with no .csv or .csv.gz files in it")
            others = [p.name for p in files if p not in found]
            if others:  # said, not silently left out (a .zip, notes; not its subfolders)
                shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more"
                                                 if len(others) > 5 else "")
                log.warning("%s: not checked (not .csv or .csv.gz): %s", a, shown)
            out += found
        elif not a.exists() and any(ch in str(a) for ch in "*?["):
            found = sorted(Path(p) for p in glob.glob(str(a)) if Path(p).is_file())
            if not found:
                raise CheckFileError(f"{a}: no file matches this pattern")
            out += found
        else:
            out.append(a)
    return list(dict.fromkeys(out))


def findings_folders(paths: list[Path], base: Path) -> list[Path]:
    """One output folder per file under ``base`` (findings, measures), never two files in
    one: the name without ``.csv``/``.csv.gz`` (``return``), else, where two files share it,
    the whole name (``return.csv``, ``return.csv.gz``), then with the file's folder
    (``b_return.csv``), then a number."""
    from collections import Counter

    def stem(p: Path) -> str:
        name = p.name
        for suffix in (".gz", ".csv"):
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
        return name or p.name

    stems = Counter(stem(p) for p in paths)
    names = Counter(p.name for p in paths)
    used: set[str] = set()
    out = []
    for p in paths:
        name = stem(p)
        if stems[name] > 1:
            name = p.name if names[p.name] == 1 else f"{p.parent.name}_{p.name}"
        candidate, n = name, 2
        while candidate in used:
            candidate, n = f"{name}-{n}", n + 1
        used.add(candidate)
        out.append(base / candidate)
    return out


def _la_code(frame: Any) -> str | None:
    """The council's code as the file gives it (most common LA_Code)."""
    import polars as pl

    codes = frame.select(pl.col("LA_Code").drop_nulls().mode().sort().first()).item()
    return None if codes is None else str(codes)


def check_one_file(cfg: Config, file: Path, out: Path, *, release: str | None, prev: Any,
                   per: Period | None, thresholds: CheckThresholds,
                   docs: bool) -> tuple[FileCheck, Any]:
    """Check one file into ``out`` (findings.parquet, the Excel-safe findings.csv,
    dq_taxonomy.csv, national_dq.csv, the Data Docs): the :class:`FileCheck` and the
    findings (the file-level ``FILE_*`` findings merged with the row checks')."""
    import polars as pl

    from checks import run_checks
    from checks.engine import summarise
    from checks.national import national_dq
    from checks.rules.file import file_findings
    from pipelines.cldfile import read_cld_for_check
    from pipelines.excel_safe import excel_safe_frame as excel_safe

    _clear_findings(out)  # a file now unreadable must not leave its last check's findings
    frame, spec, info = read_cld_for_check(file, release)
    thresholds.check_fields(spec)  # the file's release: before any check runs
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckFileError(f"cannot create the findings folder {out}: {exc.strerror}") from None
    res = run_checks(
        frame,
        spec,
        previous=prev,
        period=per,
        thresholds=thresholds,
        data_docs_dir=(out / "data_docs") if docs else None,
    )
    row_findings = res.findings
    if info.header_faults and info.header_faults.missing_fields:
        # a column the file lacks is the header finding's, not one finding per row
        row_findings = row_findings.filter(
            ~pl.col("field").is_in(info.header_faults.missing_fields).fill_null(False)
        )
    findings = pl.concat([file_findings(info), row_findings])
    summary = {**res.summary, **summarise(findings)}
    summary["la_code"] = _la_code(frame)
    findings.write_parquet(out / "findings.parquet")
    excel_safe(findings).write_csv(out / "findings.csv")
    if res.taxonomy is not None:  # the national DQ report's shape: module x field x status x …
        res.taxonomy.write_csv(out / "dq_taxonomy.csv")
    national = national_dq(res.taxonomy, spec, findings)
    national.write_csv(out / "national_dq.csv")
    checked = FileCheck(file, out, summary, national, res.data_docs,
                        period=str(per) if per is not None else info.period)
    return checked, findings


FINDINGS_FILES = ("findings.parquet", "findings.csv", "dq_taxonomy.csv", "national_dq.csv")


def _clear_findings(folder: Path) -> None:
    """Remove what an earlier check wrote into ``folder`` (only those files, and its Data
    Docs): the folder then holds this check's findings or none."""
    for name in FINDINGS_FILES:
        (folder / name).unlink(missing_ok=True)
    if (folder / "data_docs").is_dir():
        shutil.rmtree(folder / "data_docs", ignore_errors=True)


def _check_in_worker(cfg: Config, file: Path, target: Path, kw: dict[str, Any]) -> FileCheck:
    """One file of several, in a worker process: its FileCheck (findings written; the
    national picture stays in the folder's national_dq.csv)."""
    import gc

    checked, _ = check_one_file(cfg, file, target, prev=None, **kw)
    checked.national = None
    gc.collect()  # one file's frames go before the worker reads the next
    return checked


def _worker_start() -> None:
    from checks.gx_import import start_gx_import

    start_gx_import()  # each worker imports GX once, overlapping its first file


def _check_many(cfg: Config, plan: list[tuple[Path, Path, dict[str, Any]]], jobs: int):
    """(file, findings folder, a call giving its FileCheck) per file, in the files' order.
    With ``jobs`` > 1 the files are checked that many at a time in worker processes (each
    holds one file in memory at a time; GX, spec and thresholds loaded once per worker), so a
    region's or England's folder uses every core; one worker's error stays that file's."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    jobs = max(1, min(jobs or (os.cpu_count() or 1), len(plan)))
    if jobs == 1:
        _worker_start()
        for file, target, args in plan:
            yield file, target, (lambda f=file, t=target, a=args: _check_in_worker(cfg, f, t, a))
        return
    # spawn, not fork: this process has threads (the GX import) that fork would copy mid-way
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"),
                             initializer=_worker_start) as pool:  # fmt: skip
        futures = [pool.submit(_check_in_worker, cfg, f, t, a) for f, t, a in plan]
        for (file, target, _), fut in zip(plan, futures, strict=True):
            yield file, target, fut.result


SUMMARY_COLUMNS = ("file", "status", "la_code", "release", "rows", "errors", "warnings",
                   "message", "findings")


def write_check_summary(files: list[FileCheck], base: Path) -> Path:
    """summary.csv: one row per file (status ready / not ready / unreadable, counts)."""
    import polars as pl

    text, count = pl.String, pl.Int64
    schema = {c: count if c in ("rows", "errors", "warnings") else text for c in SUMMARY_COLUMNS}
    rows = []
    for f in files:
        s = f.summary or {}
        status = "unreadable" if f.summary is None else "ready" if f.ready else "not ready"
        rows.append({"file": f.file.name, "status": status, "la_code": s.get("la_code"),
                     "release": s.get("release"), "rows": s.get("rows"),
                     "errors": s.get("errors"), "warnings": s.get("warnings"),
                     "message": f.error, "findings": None if f.summary is None else str(f.folder)})
    base.mkdir(parents=True, exist_ok=True)
    path = base / "summary.csv"
    pl.DataFrame(rows, schema=schema).write_csv(path)
    return path


def record_check(cfg: Config, checked: FileCheck, findings: Any, started_at: datetime) -> int:
    """Keep one checked file's findings in history as a run of kind ``check``, in one
    transaction (a run killed before the commit leaves no trace of itself there). Returns
    the run id."""
    from pipelines.history import History

    with (
        History.open(cfg.path(cfg.paths.history_db)) as h,
        h.run("check", checked.period, (checked.summary or {}).get("release"),
              f"file {checked.file.name}", started_at=started_at) as run,
    ):  # fmt: skip
        run.counts["ready"] = checked.ready
        run.counts["la_code"] = (checked.summary or {}).get("la_code")
        run.add_findings(findings)
        return run.id


def check_file(
    cfg: Config,
    path: Path | list[Path],
    *,
    release: str | None = None,
    previous: Path | None = None,
    period: Period | None = None,
    out: Path | None = None,
    docs: bool = True,
    jobs: int = 0,
    record: bool = False,
    on_file: Callable[[int, int, FileCheck], None] | None = None,
) -> CheckOutcome:
    """Check submission files (what ``cld check`` and the check-file flow run): a file, a
    folder of them (``*.csv``, ``*.csv.gz``) or a glob, or a list of these.

    Each file: the field contract, logical rules and quantitative expectations, with the
    file-level ``FILE_*`` findings (header faults, encoding), into its findings folder
    (``out``, default ``<output_dir>/checks/<file>``; with several files, one folder per file
    under ``out`` or ``<output_dir>/checks``, and ``summary.csv`` there). ``release``: used
    when a file does not say its reporting period; ``previous``: the previous submission, for
    the change checks (one file only); ``period``: default the file's own dates. With several
    files ``jobs`` at a time are checked in worker processes (0: one per core), a file that
    cannot be read is noted (``FileCheck.error``) and the others go on; one file's problem is
    raised. ``record``: keep each checked file's findings in history as a run of kind
    ``check``, one transaction per file once its files are written. ``on_file(i, n, checked)``
    is called as each file is done.
    """
    from pipelines import thresholds as thresholds_file
    from pipelines.cldfile import read_cld

    began = datetime.now()
    paths = check_paths(path)
    if len(paths) == 1:
        from checks.gx_import import start_gx_process

        # first thing: GX imports in its own process (a light module), on the other core,
        # while this one reads and checks the file
        start_gx_process()
    if previous and len(paths) > 1:
        raise CheckFileError(
            "--previous compares one file with its previous submission: give one file"
        )
    thresholds = thresholds_file.load(cfg).checks  # the file's one reader
    if record:
        history_ready(cfg)
    prev = read_cld(previous)[0] if previous else None
    base = (Path(out) if out else cfg.path(cfg.paths.output_dir) / "checks").resolve()
    kw = {"release": release, "per": period, "thresholds": thresholds, "docs": docs}
    if len(paths) == 1:
        file = paths[0]
        target = base if out else findings_folders([file], base)[0]
        checked, findings = check_one_file(
            cfg, file, target, prev=prev, **kw
        )
        if record:
            checked.run_id = record_check(cfg, checked, findings, began)
        if on_file is not None:
            on_file(1, 1, checked)
        return CheckOutcome([checked], target)
    plan = [(file, target, kw) for file, target in zip(paths, findings_folders(paths, base),
                                                        strict=True)]
    done: list[FileCheck] = []
    for i, (file, target, job) in enumerate(_check_many(cfg, plan, jobs), 1):
        try:
            checked = job()
        except CldError as exc:  # one unreadable file does not stop the others
            checked = FileCheck(file, target, error=str(exc))
        if record and checked.summary is not None:
            import polars as pl

            findings = pl.read_parquet(target / "findings.parquet")
            checked.run_id = record_check(cfg, checked, findings, began)
            began = datetime.now()
        done.append(checked)
        if on_file is not None:
            on_file(i, len(paths), checked)
    return CheckOutcome(done, base, write_check_summary(done, base))


def cqc(
    cfg: Config,
    period: Period | None = None,
    as_at: date | None = None,
    seed: int = 1,
    out: Path | None = None,
    progress: Progress | None = None,
    points: str = "week",
) -> Any:
    """The CQC assurance pack (what ``cld cqc`` and the cqc flow run): workbook, case
    summaries and headline figures (pipelines/cqc/run.py)."""
    from pipelines.cqc.run import write_pack

    return write_pack(cfg, period, as_at, seed, out, progress, points=points)


def new_staging(out_dir: Path) -> Path:
    """A staging folder for this run's files (``.staging-<pid>-<random>``, inside the
    output folder so files move into place by rename); folders left by runs whose process
    is gone (killed) are removed first."""
    for old in out_dir.glob(".staging-*") if out_dir.is_dir() else []:
        pid = old.name.split("-")[1] if old.name.count("-") >= 2 else ""
        if not pid.isdigit() or not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return out_dir / f".staging-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def event_totals(rows_by_event_and_month: dict[str, dict[str, int]]) -> dict[str, int]:
    return {ev: sum(months.values()) for ev, months in rows_by_event_and_month.items()}


# -- the runs ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Steps:
    """The step functions a run chains. The Prefect flows pass the same functions wrapped
    as tasks (retries, task view); the CLI uses these defaults."""

    build: Callable[..., Any] = build_step
    previous: Callable[..., Any] = previous_step
    checks: Callable[..., Any] = checks_step
    record: Callable[..., Any] = record_step
    compare: Callable[..., Any] = compare_step
    report: Callable[..., Any] = report_step
    exceptions: Callable[..., Any] = exceptions_step


PLAIN = Steps()


@dataclass
class RunOutcome:
    """What a run did: facts for people (counts, ids, paths), and whether it may be sent."""

    period: str
    release: str
    ready: bool
    facts: dict[str, Any] = field(default_factory=dict)
    by_rule: list[dict[str, Any]] = field(default_factory=list)
    comparison_text: str = ""
    previous_id: int | None = None
    run_id: int | None = None
    submission_id: int | None = None
    submission: Path | None = None


def _say(progress: Progress | None, text: str) -> None:
    if progress is not None:
        progress(text)


def quarterly(
    cfg: Config,
    period: Period | None = None,
    release: str | None = None,
    header_style: str | None = None,
    *,
    dry_run: bool = False,
    build_anyway: bool = False,
    exceptions: bool = True,
    deliver: bool = False,
    progress: Progress | None = None,
    steps: Steps = PLAIN,
) -> RunOutcome:
    """Build, check and record one quarter's return; report, compare, team lists.

    Raises :class:`BlockedSubmission` *after* recording, reporting and writing the team lists
    when errors block the submission (unless ``build_anyway`` or ``dry_run``): the file is then
    not put in the output folder, and the report says what to fix.
    """
    from pipelines.build import default_path, summary_path_for

    began = datetime.now()  # history keeps the whole job's wall time, not only the recording
    p = period or default_period(cfg)
    out_dir = cfg.path(cfg.paths.output_dir)
    check_settings(cfg)
    if not dry_run:
        history_ready(cfg)
    staging = new_staging(out_dir)
    try:
        _say(progress, f"building {p} (rolling 12 months {p.start} to {p.end})")
        # GX's import starts with the transform, overlapping it and the file's writing
        built = steps.build(cfg, p, release, header_style, staging / "submission.csv",
                            warm_checks=True, quarantine=not dry_run)
        rel = built.summary["release"]
        final = default_path(cfg, p, rel, built.path.suffix == ".gz")
        # Only read: a dry run's checks too see the previous submission (when history exists).
        has_history = cfg.path(cfg.paths.history_db).exists()
        prev_id, prev_frame = (
            steps.previous(cfg, p) if has_history or not dry_run else (None, None)
        )
        reports = out_dir / "reports"
        docs = reports / f"data_docs_{p}_{uuid.uuid4().hex[:8]}"
        known = {prev_id: prev_frame} if prev_id is not None and prev_frame is not None else None
        # the SALT/ASCOF figures need the rows only: computed while the checks run
        ahead = None if dry_run else measures_ahead(cfg, built.frame, p, rel, known=known)
        _say(progress, f"checking {built.summary['rows']} rows")
        checked = steps.checks(cfg, built.frame, rel, p, prev_frame, docs)
        summary = checked.summary
        blocked = not summary["ready"]
        outcome = RunOutcome(str(p), rel, not blocked, by_rule=list(summary.get("by_rule") or []))
        outcome.previous_id = prev_id
        outcome.facts.update(
            {
                "period": str(p),
                "release": rel,
                "rows": built.summary["rows"],
                "people": built.summary["people"],
                "rows by event type": event_totals(built.summary["rows_by_event_type_and_month"]),
                "unmapped local codes": len(built.summary["unmapped"]),
                "quarantined feed files": _quarantine_fact(built, dry_run),
                "errors": summary["errors"],
                "warnings": summary["warnings"],
                "ready to submit": "yes" if not blocked else "no",
            }
        )
        no_events = empty_months(cfg, built.frame, rel, p)
        if no_events:
            _say(progress, no_events)
            outcome.facts["months without events"] = no_events
        placing = []
        if not dry_run and (not blocked or build_anyway):
            placing = [(built.path, final), (built.summary_path, summary_path_for(final))]
        if dry_run:
            outcome.facts["submission file"] = "(not written)"
            outcome.facts["history"] = "(dry run: not recorded)"
            _say(progress, "writing the DQ report and the team exception lists (dry run)")
            outcome.facts.update(dry_run_outputs(cfg, p, built, checked, reports, docs))
            return outcome
        _say(progress, "recording the run in history")
        # The file goes into the output folder in the instant before the commit, and stays
        # only if the commit succeeds (pipelines.history.store.Placement).
        ids = steps.record(
            cfg, "build", p, rel, built.frame, checked.findings, final if placing else None,
            place=placing, started_at=began, ready=not blocked, known=known, measures=ahead,
        )  # fmt: skip
        outcome.submission = final if placing else None
        outcome.facts["submission file"] = str(outcome.submission or "(not written)")
        outcome.run_id, outcome.submission_id = ids["run_id"], ids["submission_id"]
        _say(progress, f"history: run {ids['run_id']}, submission {ids['submission_id']}")
        outcome.facts["history run"] = ids["run_id"]
        outcome.facts["submission id"] = ids["submission_id"]
        if "measures" in ids:
            outcome.facts["SALT/ASCOF figures"] = ids["measures"]
            outcome.facts["measures file"] = ids.get("measures file", "(not written)")
        _say(progress, "comparing with the previous submission")
        facts, outcome.comparison_text, comparison = steps.compare(
            cfg, prev_id, ids["submission_id"], reports / f"compare_run{ids['run_id']}"
        )
        outcome.facts.update(facts)
        _say(progress, "writing the DQ report")
        keep_run_facts(reports, ids["run_id"], built.summary)
        outcome.facts["DQ report"] = str(
            steps.report(cfg, ids["run_id"], reports, docs, comparison=comparison,
                         measures=checked.measures)
        )
        if exceptions:
            _say(progress, "writing the team exception lists")
            outcome.facts.update(
                steps.exceptions(cfg, ids["run_id"], deliver=deliver and not no_events)
            )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if blocked and not build_anyway:
        raise BlockedSubmission(
            f"{summary['errors']} errors block the {p} submission: the DQ report and the team "
            "exception lists show what to fix (`cld run quarterly --build-anyway` writes the file "
            "regardless)",
            outcome,
        )
    return outcome


def nightly(
    cfg: Config,
    today: date | None = None,
    *,
    deliver: bool = True,
    progress: Progress | None = None,
    steps: Steps = PLAIN,
) -> RunOutcome:
    """Check the rolling year up to today, record its findings and resolve NHS-number
    feedback, and write (and deliver) every team's exception list."""
    began = datetime.now()  # history keeps the whole job's wall time
    day = today or cfg.today()
    p = RollingYear(day)
    check_settings(cfg)
    history_ready(cfg)
    staging = new_staging(cfg.path(cfg.paths.output_dir))
    try:
        _say(progress, f"building the rolling year {p.start} to {p.end}")
        built = steps.build(cfg, p, None, None, staging / "nightly.csv")
        rel = built.summary["release"]
        _, prev_frame = steps.previous(cfg, p)
        _say(progress, f"checking {built.summary['rows']} rows")
        checked = steps.checks(cfg, built.frame, rel, p, prev_frame, None)
        no_events = empty_months(cfg, built.frame, rel, p)
        if no_events:
            _say(progress, no_events)
        _say(progress, "working out the waiting lists now (CQC pack W1-W5)")
        from pipelines.cqc.trend import waiting_now

        waiting = waiting_now(cfg, day)
        _say(progress, "recording the findings in history")
        recorded = steps.record(cfg, "nightly", p, rel, built.frame, checked.findings, None,
                                waiting=waiting, started_at=began)
        _say(progress, f"history: run {recorded['run_id']}")
        _say(progress, "writing the team exception lists")
        delivered = steps.exceptions(cfg, recorded["run_id"], deliver=deliver and not no_events)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary = checked.summary
    outcome = RunOutcome(str(p), rel, bool(summary["ready"]),
                         by_rule=list(summary.get("by_rule") or []))
    outcome.run_id = recorded["run_id"]
    outcome.facts.update(
        {
            "rolling year": f"{p.start} to {p.end}",
            "rows": built.summary["rows"],
            "errors": summary["errors"],
            "warnings": summary["warnings"],
            "history run": recorded["run_id"],
            **{FEEDBACK_WORDS.get(k, f"feedback {k}"): v
               for k, v in recorded["feedback"].items()},
            **delivered,
        }
    )
    if no_events:
        raise NoEvents(no_events, outcome)
    if delivered.get("not delivered"):  # said once, by the exception
        outcome.facts.pop("not delivered")
        outcome.facts.pop("failed teams", None)
        raise DeliveryFailed(delivered["not delivered"], outcome)
    if delivered.get("failed teams"):
        raise DeliveryFailed(
            f"exception lists not delivered to team(s) {', '.join(delivered['failed teams'])}: "
            f"see {delivered['delivery report']}",
            outcome,
        )
    return outcome
