"""The CLD rule catalogue: field contract, logical rules and quantitative expectations.

``run_checks(frame, spec, *, previous=None, period=None, thresholds=None)`` checks a
CLD frame (docs/contracts.md section 2) and returns a :class:`CheckResult` whose findings
table follows docs/contracts.md section 3. This package reads no files or databases; callers
hand it frames (``pipelines.cldfile.read_cld`` reads submission files).

The names below come from :mod:`checks.engine` when first used, so importing a light module
of the package (``checks.gx_import``) does not import polars, pandera and the catalogue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from checks.engine import CheckResult, empty_findings, run_checks

__all__ = ["CheckResult", "empty_findings", "run_checks"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from checks import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'checks' has no attribute {name!r}")
