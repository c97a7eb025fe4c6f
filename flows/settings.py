"""Keep Prefect local and quiet (shared/reference/stack.md, section 4).

Call :func:`configure_prefect` before ``import prefect``: Prefect reads its settings once, when
it is first imported. ``flows/__init__.py`` does this, so importing any flow module is enough.
Every value is a default only: anything already set in the environment wins.

* ``PREFECT_HOME`` -> ``<project>/.prefect`` (profiles, the local SQLite database, results),
  never ``~/.prefect``.
* Analytics off on the client (``DO_NOT_TRACK=1``) and on the server.
* No resource-metrics telemetry.
* A startup timeout for the ephemeral server that a cold start on 2 cores fits into.

The same settings live in ``prefect.toml`` at the project root, for the ``prefect`` command run
from there (``prefect server start``, ``prefect deploy``, ``prefect worker start``).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

QUIET_DEFAULTS: dict[str, str] = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}


def prefect_home(project_root: Path | None = None) -> Path:
    """Where Prefect keeps its state: ``$PREFECT_HOME`` if set, else ``<project>/.prefect``."""
    env = os.environ.get("PREFECT_HOME")
    if env:
        return Path(env).expanduser()
    return (project_root or PROJECT_ROOT) / ".prefect"


def configure_prefect(project_root: Path | None = None) -> Path:
    """Set the quiet, local defaults in ``os.environ``; returns the Prefect home in use."""
    home = prefect_home(project_root)
    os.environ.setdefault("PREFECT_HOME", str(home))
    for key, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)
    return home
