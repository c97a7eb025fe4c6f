"""History of runs, submissions, findings and NHS-number feedback (DuckDB); see docs/history.md."""

from pipelines.history.store import (
    History,
    HistoryBusy,
    HistoryError,
    Run,
    SubmissionInfo,
)

__all__ = ["History", "HistoryBusy", "HistoryError", "Run", "SubmissionInfo"]
