"""Outputs for people: team exception lists (xlsx), their delivery (e-mail or folder), and the
self-contained HTML data-quality report."""

from pipelines.excel_safe import excel_safe
from pipelines.outputs.exceptions import ExceptionLists, TeamList, write_exception_lists

__all__ = ["ExceptionLists", "TeamList", "excel_safe", "write_exception_lists"]
