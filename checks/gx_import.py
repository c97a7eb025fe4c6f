"""Great Expectations' import in a background thread (seconds of pure Python), kept apart
from the checks so a command can start it first thing, before it imports polars, pandera and
the rule catalogue: the import then overlaps all of that and the row checks."""

from __future__ import annotations

import sys
import threading

_GX_IMPORT: list[threading.Thread] = []


def import_gx() -> None:
    """Import GX; its logger quietened."""
    import logging

    import great_expectations  # noqa: F401

    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def start_gx_import() -> None:
    """Start importing GX in a background thread (once per process), so the import overlaps
    the polars work (which releases the GIL); a later ``import great_expectations`` waits
    for it to finish."""
    if _GX_IMPORT or "great_expectations" in sys.modules:
        return
    t = threading.Thread(target=import_gx, name="cld-import-gx", daemon=True)
    _GX_IMPORT.append(t)
    t.start()
