"""The tool's version, as ``cld --version`` prints it, the reports show it and history records
it beside each run: the package version, plus ``git describe`` when the code runs from a git
checkout (so a figure can be traced to the exact code that made it)."""

from __future__ import annotations

import subprocess
from functools import cache

from pipelines.config import PROJECT_ROOT

PACKAGE = "cld-pipeline"


@cache
def code_version() -> str:
    """Package version plus ``git describe`` when the code runs from a git checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version(PACKAGE)
    except PackageNotFoundError:
        v = "unknown"
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip
        if out.returncode == 0 and out.stdout.strip():
            v += f"+{out.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    return v
