"""The CLD rule catalogue: field contract, logical rules and quantitative expectations.

``run_checks(frame, spec, *, previous=None, period=None, thresholds=None)`` checks a
CLD frame (docs/contracts.md section 2) and returns a :class:`CheckResult` whose findings
table follows docs/contracts.md section 3. This package reads no files or databases; callers
hand it frames (``pipelines.cldfile.read_cld`` reads submission files).
"""

from __future__ import annotations

from checks.engine import CheckResult, empty_findings, run_checks

__all__ = ["CheckResult", "empty_findings", "run_checks"]
