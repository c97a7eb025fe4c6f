"""The ``cld`` command. Each command group lives in its own module and registers here, so
the CLI and the Prefect flows call the same functions in ``pipelines/`` and ``checks/``."""

from __future__ import annotations

import contextlib
import errno
import signal
import sys

import typer

from cld_schema.errors import CldError

_APP: typer.Typer | None = None


def _app() -> typer.Typer:
    """The command tree, built on first use: the command modules read the spec's release names
    for their help texts, so a broken spec folder (``CLD_SPEC_DIR``, ``releases.yaml``) raises
    its SpecError here, under :func:`main`'s one-line handler, not when the package is
    imported. ``pipelines.cli.app`` is the same object (tests invoke it)."""
    global _APP
    if _APP is None:
        from pipelines.cli import (
            build,
            check,
            common,
            cqc,
            history,
            init,
            measures,
            outputs,
            quickstart,
            run,
            sample,
            serve,
            spec,
            where,
        )

        app = typer.Typer(
            rich_markup_mode=None,  # help shows [section] key names as written
            name="cld",
            help="Adult social care Client Level Data (CLD): build, check and track quarterly "
            "returns.",
            no_args_is_help=True,
            add_completion=False,
            pretty_exceptions_enable=False,
        )
        app.callback()(common.global_options)
        for module in (spec, sample, init, build, check, measures, history, outputs, run,
                       serve, quickstart, cqc, where):
            module.register(app)
        _APP = app
    return _APP


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Stopped(BaseException):
    """Ctrl-C or SIGTERM (a service stop, ``kill``). Raised from the signal handler so it
    unwinds every ``finally`` and ``except BaseException`` (an unfinished run is rolled back
    and its files kept out of the output folder), and not KeyboardInterrupt, which click
    turns into a bare blank line."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _stop(signum: int, frame: object) -> None:
    raise Stopped("interrupted (Ctrl-C)" if signum == signal.SIGINT else "stopped (SIGTERM)")


STOPPED = (
    "history and the output folder hold what the last finished step recorded (see `cld "
    "history runs`); run the command again"
)


def main() -> None:
    previous = {}
    # `cld serve` leaves signals to Prefect's runner, which shuts down on them itself.
    serving = "serve" in sys.argv[1:]
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        for sig in () if serving else (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _stop)
    try:
        _main()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main() -> None:
    try:
        _app()()
    except CldError as exc:  # a problem the user can fix: one line, no traceback, exit 2
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except (Stopped, KeyboardInterrupt) as exc:
        what = exc.what if isinstance(exc, Stopped) else "interrupted (Ctrl-C)"
        typer.secho(f"error: {what}: {STOPPED}", err=True, fg=typer.colors.RED)
        sys.exit(143 if "SIGTERM" in what else 130)
    except OSError as exc:  # a path that cannot be read or written (--out a file, no folder)
        where = f": {exc.filename}" if exc.filename else ""
        if exc.errno == errno.ENOSPC:
            where += " (the disk is full: free some space there and run again)"
        typer.secho(f"error: {exc.strerror or exc}{where}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except Exception as exc:
        if type(exc).__module__.split(".")[0] not in ("duckdb", "_duckdb"):
            raise
        # The history database failed under a command (damaged, the disk full mid-read).
        text = " ".join(str(exc).split())[:240]
        typer.secho(
            f"error: the history database cannot be read ({text}): if it is damaged, move it "
            "aside and restore the last backup ([paths] history_db)",
            err=True, fg=typer.colors.RED,
        )  # fmt: skip
        sys.exit(2)
