"""Running one corpus case: the ``cld`` command in this process (fast) or in a child process
(kills, resource limits, two runs at once), and the checks every case must pass."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLD = [sys.executable, "-c", "from pipelines.cli import main; main()"]


@dataclass
class Result:
    code: int
    out: str
    err: str
    traceback: str | None = None  # an exception that escaped the command (always a bug)

    @property
    def text(self) -> str:
        return self.out + "\n" + self.err + "\n" + (self.traceback or "")

    def err_lines(self) -> list[str]:
        # rich progress bars are transient; only the lines that stay count
        return [ln for ln in self.err.splitlines() if ln.strip()]


def run_cld(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
    """``cld ARGS`` in this process, as ``pipelines.cli.main`` runs it."""
    from pipelines.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_env = dict(os.environ)
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    code, tb = 0, None
    os.environ.update(env or {})
    sys.argv = ["cld", *args]
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:
                tb = traceback.format_exc()
                code = 1
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return Result(code, out.getvalue(), err.getvalue(), tb)


def run_cld_child(
    args: list[str], env: dict[str, str] | None = None, timeout: float = 120, **kw
) -> Result:
    """``cld ARGS`` as a separate process (what a user's shell runs)."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [*CLD, *args], capture_output=True, text=True, timeout=timeout, env=full_env,
        cwd=kw.get("cwd", PROJECT_ROOT),
    )  # fmt: skip
    tb = proc.stderr if "Traceback (most recent call last)" in proc.stderr else None
    return Result(proc.returncode, proc.stdout, proc.stderr, tb)


def assert_one_line_error(res: Result, pattern: str, strip: str = "") -> None:
    """Exit 2 with one line ``error: …`` matching ``pattern`` (``strip``, the case's folder,
    removed first so a name in the path cannot match), and no traceback."""
    assert res.traceback is None, f"traceback:\n{res.traceback}"
    lines = res.err_lines()
    assert res.code == 2, f"exit {res.code}, expected 2; stderr:\n{res.err}\nstdout:\n{res.out}"
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, f"expected one error line, got:\n{res.err}"
    assert lines[-1].startswith("error:"), f"the last line is not the error:\n{res.err}"
    assert re.search(pattern, errors[0].replace(strip, "") if strip else errors[0]), f"{errors[0]!r} does not match {pattern!r}"
    assert "Traceback" not in res.text


def assert_no_personal_data(res: Result, personal: list[str]) -> None:
    """None of the personal values planted in the input shows in anything printed."""
    text = res.text
    squashed = re.sub(r"\s", "", text)
    for value in personal:
        v = re.sub(r"\s", "", value)
        assert v not in squashed, f"personal value {value[:3]}… printed:\n{text[-2000:]}"
