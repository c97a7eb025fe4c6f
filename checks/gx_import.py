"""Great Expectations, kept off the checks' critical path. GX is seconds of pure Python to
import (and more to validate), so it either

* imports in a background thread of this process (:func:`start_gx_import`), overlapping the
  polars work, which releases the GIL, or
* runs in a process of its own (:func:`start_gx_process`): a child (``python -m
  checks.gx_server``) imports GX at once, on the other core, without sharing this process's
  interpreter lock; :func:`validate_plans` later sends it the small tables and expectations
  (counts only, never rows or personal data) and reads back the findings rows.

:func:`validate_plans` uses the child when one was started and is alive, and otherwise (no
child, or it died) validates here: the same code (:func:`checks.gx_suites.validate`) either
way. This module is light (no polars, pandera or catalogue), so a command can start either
first thing."""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)
_GX_IMPORT: list[threading.Thread] = []
_PROCESS: list[_GxProcess] = []
_LOCK = threading.Lock()


def import_gx() -> None:
    """Import GX; its logger quietened."""
    import great_expectations  # noqa: F401

    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def start_gx_import() -> None:
    """Start importing GX in a background thread (once per process), so the import overlaps
    the polars work (which releases the GIL); a later ``import great_expectations`` waits
    for it to finish. Nothing to do when a GX process runs the expectations."""
    if _GX_IMPORT or _PROCESS or "great_expectations" in sys.modules:
        return
    t = threading.Thread(target=import_gx, name="cld-import-gx", daemon=True)
    _GX_IMPORT.append(t)
    t.start()


class _GxProcess:
    """The child that imports GX and validates plans sent to it, one request at a time:
    pickled ``(plans, data_docs_dir)`` on its stdin, a pickled ``("ok", rows, docs)`` or
    ``("error", text)`` back on its stdout."""

    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[1])  # where this `checks` package lives
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        # -P: the working directory is not put first on sys.path (a council folder holding
        # something named `checks` must not shadow this package)
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "checks.gx_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            start_new_session=True,  # Ctrl-C reaches this process, which then ends the child
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def validate(self, plans: list, data_docs_dir: str | None) -> tuple[list[dict], str | None]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        pickle.dump((plans, data_docs_dir), self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.proc.stdin.flush()
        answer = pickle.load(self.proc.stdout)
        if answer[0] != "ok":
            raise RuntimeError(answer[1])
        return answer[1], answer[2]

    def why(self) -> str:
        """The last line the child wrote to its stderr (GX's and Python's messages; no data)."""
        self.stderr.seek(0)
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {self.proc.poll()}"

    def stop(self) -> None:
        """End the child at once. Between requests it holds nothing to save (each answer,
        Data Docs included, is complete before it is sent), and a clean exit of an
        interpreter holding GX takes over half a second, on every ``cld check``."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stderr.close()


def start_gx_process() -> None:
    """Start the GX process (once per process; it ends when this one does). Where it cannot
    start, the expectations run in this process instead."""
    with _LOCK:
        if _PROCESS or "great_expectations" in sys.modules:
            return
        try:
            _PROCESS.append(_GxProcess())
        except OSError as exc:
            log.warning("quantitative checks: no separate process (%s); they run here", exc)
            return
    atexit.register(stop_gx_process)


def stop_gx_process() -> None:
    """End the GX process, if any (the next :func:`validate_plans` validates here)."""
    with _LOCK:
        while _PROCESS:
            _PROCESS.pop().stop()


def validate_plans(plans: list, data_docs_dir: str | None) -> tuple[list[dict], str | None]:
    """Validate the quantitative plans (:class:`checks.gx_suites.SuitePlan`): (findings rows,
    Data Docs index or None). In the GX process when one runs; else, or when it fails, here
    (so a GX error is raised here, the same as without a process)."""
    with _LOCK:
        child = _PROCESS[0] if _PROCESS else None
        if child is not None:
            try:
                return child.validate(plans, data_docs_dir)
            except (OSError, EOFError, pickle.PickleError, RuntimeError) as exc:
                why = child.why() if isinstance(exc, (OSError, EOFError)) else str(exc)
                log.warning(
                    "quantitative checks: the GX process failed (%s); running them here", why
                )
                _PROCESS.remove(child)
                child.stop()
    from checks.gx_suites import validate

    return validate(plans, data_docs_dir)


def gx_process_running() -> bool:
    """Whether a GX process was started and is alive (for tests and progress lines)."""
    return bool(_PROCESS) and _PROCESS[0].alive()

