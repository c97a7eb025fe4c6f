"""The texts and severities of the field rules (``FLD_<Field>_<kind>`` and
``FLD_<Field>_mandatory``), read from the sibling ``fields.yaml``: the contract
(checks/contract.py) takes the value checks' messages from here, the engine the findings'
texts and severities, and ``cld rules`` (checks/catalogue.py) the same, so they cannot drift."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

FIELDS_FILE = Path(__file__).with_name("fields.yaml")


@cache
def _texts() -> dict[str, Any]:
    from cld_schema.spec import load_yaml

    return load_yaml(FIELDS_FILE.read_text(encoding="utf-8"))


def check_kind(check: str) -> str:
    """The rule-id kind of a value check (``date`` -> ``format``)."""
    return _texts()["checks"][check]["kind"]


def check_message(check: str, **values: Any) -> str:
    """A value check's message, e.g. ``not a date as YYYY-MM-DD``."""
    return _texts()["checks"][check]["message"].format(**values)


def finding_message(label: str, message: str) -> str:
    """A value-check finding's message: the field's label and what the value fails."""
    return f"{label}: {message}"


def how_to_fix(label: str) -> str:
    return _texts()["how_to_fix"].format(label=label)


def mandatory_message(label: str) -> str:
    return _texts()["mandatory"]["message"].format(label=label)


def mandatory_how_to_fix(label: str) -> str:
    return _texts()["mandatory"]["how_to_fix"].format(label=label)


@cache
def field_severity() -> dict[str, str]:
    """Severity exceptions by rule id (field findings are errors otherwise)."""
    return dict(_texts().get("severity") or {})
