"""`cld --help` starts quickly: loading the command tree imports no polars (nor GX, duckdb,
Prefect); each command imports what it needs when it runs. Speed itself is measured by hand
(`time cld --help`), not here."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("polars", "great_expectations", "duckdb", "prefect", "pandera", "sqlalchemy")


def test_the_command_tree_imports_nothing_heavy() -> None:
    code = ("import sys, pipelines.cli; pipelines.cli.app; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_status_names_still_import_from_the_package() -> None:
    from cld_schema import STATUS_LABELS, field_status, nhs_number_valid

    assert callable(field_status) and callable(nhs_number_valid) and STATUS_LABELS
