"""``cld compare``, ``cld feedback``, ``cld export`` and ``cld history …``: the history of runs,
submissions, findings and NHS-number feedback (``pipelines.history``).

Nothing here prints personal data: comparisons and feedback print counts; the detail (person
ids, masked NHS numbers) goes to files with ``--out``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipelines.cli.common import UserError, get_config

if TYPE_CHECKING:  # imported where used: `cld --help` stays quick (no polars, no DuckDB)
    import polars as pl

    from pipelines.history.store import History

OutDir = Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the files.")]


@contextlib.contextmanager
def _history(ctx: typer.Context) -> Iterator[History]:
    """The configured history database, with its problems shown as plain messages."""
    from pipelines.history.store import History

    cfg = get_config(ctx)
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        yield h


def _table(frame: pl.DataFrame, title: str) -> None:
    """Readable at 80 columns: a table when it fits, else one block per row."""
    from pipelines.cli.common import print_table

    rows = [[v.strftime("%Y-%m-%d %H:%M") if isinstance(v, dt.datetime) else v for v in r]
            for r in frame.iter_rows()]
    print_table(title, [c.replace("_", " ") for c in frame.columns], rows)


def _team_id(h: History, team: str | None) -> str | None:
    """A team given by id or by name (any case), as its id; unknown names pass through."""
    if team is None or not h.trend(team).is_empty():
        return team
    import polars as pl

    named = h.trend().filter(pl.col("team_name").str.to_lowercase() == team.strip().lower())
    return str(named["team_id"][0]) if not named.is_empty() else team


def compare(
    ctx: typer.Context,
    a: Annotated[
        int | None,
        typer.Argument(help="Older submission id (default: last sent).", show_default=False),
    ] = None,
    b: Annotated[int | None, typer.Argument(help="Newer submission id (default: latest).")] = None,
    out: OutDir = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when there are warnings.")
    ] = False,
) -> None:
    """Compare two submissions: events added/dropped/changed, volumes, completeness, warnings.

    Without ids: the latest build against the last one uploaded to the Data Landing Portal
    (DLP), else the one before it. `--out` writes the detail as CSV files (Excel-safe).
    """
    from pipelines import thresholds
    from pipelines.history.compare import compare
    from pipelines.outputs.comparison_files import write_comparison

    cfg = get_config(ctx)
    with _history(ctx) as h:
        # its compare: section; no file: the defaults
        result = compare(h, a, b, thresholds.load(cfg, missing_ok=True).compare)
        _warn_if_reversed(result)
        typer.echo(result.summary_text())
        if out is not None:
            for p in write_comparison(result, out):
                typer.echo(f"wrote {p}")
    if strict and result.warnings:
        raise typer.Exit(1)


def _warn_if_reversed(result) -> None:
    """Ids given with the newer quarter first: compared as asked, and said."""
    from pipelines.period import Period, PeriodError

    older, newer = result.a, result.b
    a, b = older.id, newer.id
    try:
        reversed_ = (Period.parse(older.period or "").quarter_start
                     > Period.parse(newer.period or "").quarter_start)
    except PeriodError:
        return
    if reversed_:
        typer.secho(f"warning: submission {a} ({older.period}) is of a later quarter than "
                    f"submission {b} ({newer.period}): the first id is the older one "
                    f"(`cld compare {b} {a}`)", err=True, fg=typer.colors.YELLOW)


def feedback(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The NHS-number matching feedback file.")],
    case_db: Annotated[
        bool,
        typer.Option(
            "--case-db",
            help="Check person ids and route to teams from the case-management database "
            "(persons, allocations) instead of the latest submission.",
        ),
    ] = False,
    period: Annotated[
        str | None,
        typer.Option(
            help="With --case-db: the period to extract (default: the latest submission's "
            "period in history, else the last complete quarter)."
        ),
    ] = None,
) -> None:
    """Take in an NHS-number matching feedback file and route the numbers found to teams.

    The layout comes from `[feedback] layout`; person ids are checked against the latest
    submission in history (or the case-management database with `--case-db`). A malformed
    file is quarantined with a reason (exit 2).
    """
    from pipelines import runs
    from pipelines.period import Period

    cfg = get_config(ctx)
    if file.is_dir():
        raise UserError(f"{file} is a folder: give the feedback file itself")
    if not file.is_file():
        raise UserError(f"feedback file {file} not found")
    got = runs.feedback_step(cfg, file, case_db=case_db,
                             period=Period.parse(period) if period else None)
    if got["status"] != "taken in":  # quarantined, or taken in before: one line, exit 2
        raise UserError(got["message"])
    typer.echo(
        f"{file.name}: {got['rows']} rows; {got['items']} NHS numbers found "
        f"({got['resolved_at_once']} already held, {got['conflicts_at_once']} conflicting), "
        f"{got['no_match']} not matched, {got['rejected rows']} rows skipped, "
        f"{got['set aside rows']} set aside"
    )
    for problem, n in got["rejected by problem"].items():
        typer.echo(f"  skipped: {problem}: {n}")
    for reason, n in got["set aside by reason"].items():
        typer.echo(f"  set aside: {reason}: {n} (rows kept in {got['set aside file']})")
    typer.echo(f"for teams to act on: {got['action needed']}")
    for team, n in got["by team"].items():
        typer.echo(f"  to {team}: {n}")


def export(
    ctx: typer.Context,
    out: OutDir = None,
    include_pid: Annotated[
        bool,
        typer.Option("--include-pid", help="Keep NHS numbers, names, dates of birth, postcodes."),
    ] = False,
) -> None:
    """Write every history table as Parquet (for Power BI), personal data blanked by default."""
    from pipelines.history.export import export as export_tables

    cfg = get_config(ctx)
    folder = out or cfg.path(cfg.paths.output_dir) / "history_export"
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--out {folder} is a file: give a folder for the Parquet files")
    with _history(ctx) as h:
        for p in export_tables(h, folder, include_pid=include_pid):
            typer.echo(f"wrote {p}")


def runs(
    ctx: typer.Context,
    last: Annotated[int, typer.Option("--last", "-n", help="How many runs to show.")] = 20,
) -> None:
    """The runs recorded, newest last, and the submissions they built."""
    import polars as pl

    with _history(ctx) as h:
        frame = h.runs().tail(last).select(
            "id", "kind", "period", "release", pl.col("shown_status").alias("status"),
            "started_at", "seconds", "submission_rows", "findings", "error",
            # a recorded check names the file it checked (a regional hub's many councils)
            pl.when(pl.col("kind") == "check").then(pl.col("source").str.strip_prefix("file "))
            .alias("file"),
        )  # fmt: skip
        if frame["file"].null_count() == frame.height:  # no checks among them: no column
            frame = frame.drop("file")
        _table(frame, "Runs")
        subs = h.submissions().tail(last)
        written = subs.filter(pl.col("path").is_not_null())
        _table(
            written.select("id", "run_id", "period", "rows", "sent_to_portal", "sent_at", "path"),
            "Submissions (mark the one uploaded: cld history mark-sent ID)",
        )
        unwritten = subs.filter(pl.col("path").is_null())
        if unwritten.height:
            ids = ", ".join(str(i) for i in unwritten["id"].to_list())
            typer.echo(
                f"not listed: build(s) {ids} (file never written: blocked by errors, or a dry "
                "run); they are kept for comparison, not for sending"
            )


def _measure_id(measure: str) -> str:
    """The measure id as recorded (any case accepted), else one line naming the known ids."""
    from pipelines.measures import MEASURE_IDS

    by_upper = {m.upper(): m for m in MEASURE_IDS}
    if measure.strip().upper() in by_upper:
        return by_upper[measure.strip().upper()]
    raise UserError(f"no measure {measure!r}; known: {', '.join(MEASURE_IDS)}")


def trend(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option("--team", help="One team, by id or name.")] = None,
    last: Annotated[int, typer.Option("--last", "-n", help="How many runs.")] = 8,
    measure: Annotated[
        str | None, typer.Option("--measure", help="One SALT/ASCOF measure, every group.")
    ] = None,
) -> None:
    """Findings per rule, and the SALT/ASCOF figures, over the last runs and submissions."""
    import polars as pl

    if measure is not None:
        measure = _measure_id(measure)
    with _history(ctx) as h:
        from pipelines.cli.measures import print_trend

        asked, team = team, _team_id(h, team)
        frame = h.trend(team)
        if frame.is_empty():
            typer.echo(f"no findings recorded yet{' for team ' + asked if asked else ''}")
            print_trend(h, last, measure)
            return
        keep = frame["run_id"].unique().sort().tail(last)
        pivot = (
            frame.filter(pl.col("run_id").is_in(keep.implode()))
            .group_by("rule_id", "run_id")
            .agg(pl.col("findings").sum())
            .sort("run_id")
            .pivot(on="run_id", index="rule_id", values="findings")
            .fill_null(0)
            .sort("rule_id")
        )
        periods = dict(frame.select("run_id", "period").unique().iter_rows())
        pivot = pivot.rename({c: f"run {c}\n{periods.get(int(c), '')}".strip()
                              for c in pivot.columns if c != "rule_id"})
        names = frame["team_name"].drop_nulls().head(1).to_list() if team else []
        who = f" for {names[0]} ({team})" if names else (f" for team {team}" if team else "")
        _table(pivot.rename({"rule_id": "rule"}), f"Findings per rule{who}")
        print_trend(h, last, measure)


def feedback_status(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option("--team", help="One team, by id or name.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="CSV of the outstanding items.")
    ] = None,
) -> None:
    """NHS-number feedback by team: open, resolved, conflicting, age of the oldest."""
    with _history(ctx) as h:
        team = _team_id(h, team)
        summary = h.query("feedback/summary.sql", {"today": dt.date.today(), "team": team})
        if summary.is_empty():
            taken = h.con.execute("SELECT count(*) FROM feedback_files").fetchone()[0]
            typer.echo(
                f"no NHS-number feedback for team {team} (cld history feedback for all teams)"
                if team and taken
                else "no NHS-number feedback taken in yet: take NHS England's matching "
                "feedback file in with `cld feedback FILE`"
            )
        else:
            _table(summary, f"NHS-number feedback{' for team ' + team if team else ''}")
        if out is not None:
            from pipelines.outputs.comparison_files import write_csv_for_people

            write_csv_for_people(h.open_feedback(team), out)
            typer.echo(f"wrote {out}")


def mark_sent(
    ctx: typer.Context,
    submission: Annotated[int, typer.Argument(
        help="The submission id uploaded to the Data Landing Portal (DLP).")],
) -> None:
    """Record which submission was uploaded, so the next build is compared with it."""
    import polars as pl

    from pipelines.history.store import HistoryError

    with _history(ctx) as h:
        before = h.submission(submission)
        if before.path is None:
            raise HistoryError(
                f"submission {submission}'s file was never written (the build was blocked by "
                "errors): only a written file can have been uploaded; see `cld history runs`"
            )
        run = h.runs().filter(pl.col("id") == before.run_id)
        blocked = not run.is_empty() and run["shown_status"][0] == "blocked"
        info = h.mark_sent(submission)
    if before.sent_to_portal:
        typer.secho(f"note: submission {info.id} was already marked as sent", err=True)
    if blocked:  # written with --build-anyway: the portal will report its errors too
        typer.secho(f"warning: submission {info.id} was not ready to submit (errors left; "
                    "written with --build-anyway)", err=True, fg=typer.colors.YELLOW)
    typer.echo(f"submission {info.id} ({info.period}, {info.rows} rows) marked as sent")


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
    app.command("feedback")(feedback)
    app.command("export")(export)
    history_app = typer.Typer(
        help="Runs, DQ trend and NHS-number feedback kept in the history database.",
        invoke_without_command=True,
    )

    @history_app.callback()
    def _default(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is None:
            runs(ctx)

    history_app.command("runs")(runs)
    history_app.command("trend")(trend)
    history_app.command("feedback")(feedback_status)
    history_app.command("mark-sent")(mark_sent)
    app.add_typer(history_app, name="history")
