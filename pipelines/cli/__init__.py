"""The ``cld`` command. Each command group lives in its own module and registers here, so
the CLI and the Prefect flows call the same functions in ``pipelines/`` and ``checks/``."""

from __future__ import annotations

import sys

import typer

from pipelines.cli import (
    build,
    check,
    common,
    cqc,
    history,
    measures,
    outputs,
    quickstart,
    run,
    sample,
    serve,
    spec,
)

app = typer.Typer(
    rich_markup_mode=None,  # help shows [section] key names as written
    name="cld",
    help="Adult social care Client Level Data (CLD): build, check and track quarterly returns.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.callback()(common.global_options)
for _module in (spec, sample, build, check, measures, history, outputs, run, serve, quickstart,
                cqc):
    _module.register(app)


def main() -> None:
    try:
        app()
    except common.UserError as exc:  # clear message, no traceback, non-zero exit
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except OSError as exc:  # a path that cannot be read or written (--out a file, no folder)
        where = f": {exc.filename}" if exc.filename else ""
        typer.secho(f"error: {exc.strerror or exc}{where}", err=True, fg=typer.colors.RED)
        sys.exit(2)
