"""``cld quickstart``: the README's one-command run on the embedded sample council.

Makes the sample council when ``[source] sample_db`` does not exist yet, then builds the
submission for the latest complete quarter the sample covers, and says where the file and its
summary are.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.common import UserError, get_config
from pipelines.period import Period

# A quarter whose data ends this close to its last day counts as complete.
COMPLETE_SLACK = timedelta(days=7)


def latest_complete_quarter(last_day: date) -> Period:
    """The latest quarter fully covered by data that runs up to ``last_day``."""
    q = Period.containing(last_day)
    return q if q.end - last_day <= COMPLETE_SLACK else q.previous()


def last_activity(db: Path) -> date:
    """The latest step completion in the sample database (service start dates can lie in the
    future: planned packages and injected defects)."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT MAX(completed_on) FROM workflow_steps")).scalar()
    finally:
        engine.dispose()
    if row is None:
        raise UserError(f"the sample database {db} holds no completed steps")
    return date.fromisoformat(str(row)[:10])


def make_sample(db: Path) -> None:
    """Generate the sample council with a progress bar."""
    from rich.progress import Progress

    from pipelines.sample import generate

    typer.echo(f"making the sample council in {db.parent} (first run only)")
    with Progress(transient=True) as bar:
        task = bar.add_task("sample", total=None)

        def tick(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        generate(db, size="small", progress=tick)


def register(app: typer.Typer) -> None:
    @app.command()
    def quickstart(
        ctx: typer.Context,
        period: Annotated[
            str | None,
            typer.Option(help="Quarter to run (default: the latest complete one in the data)."),
        ] = None,
    ) -> None:
        """Make the sample council if needed, then run its whole quarterly job: build, checks,
        history, comparison, DQ report and team exception lists."""
        from pipelines import runs
        from pipelines.cli.run import _say, print_outcome, verdict

        cfg = get_config(ctx)
        db = cfg.path(cfg.source.sample_db)
        typer.echo(f"council {cfg.council.la_code} ({cfg.council.name}); config {cfg.file}")
        if not db.exists():
            make_sample(db)
        chosen = Period.parse(period) if period else latest_complete_quarter(last_activity(db))
        # The sample council carries deliberate defects, so its return is normally blocked:
        # build it anyway so the whole job can be seen end to end, and say so.
        from pipelines.cli.build import build_progress, steps_with_progress

        with build_progress() as tick:
            outcome = runs.quarterly(cfg, chosen, build_anyway=True, progress=_say,
                                     steps=steps_with_progress(tick))
        print_outcome(outcome)
        verdict(outcome)
        typer.echo(
            "next: open the DQ report above; `cld --help` lists every command "
            "(`cld run quarterly`, `cld check FILE`, `cld compare`, `cld exceptions`, …)"
        )
