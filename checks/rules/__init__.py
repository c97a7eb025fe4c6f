"""The logical rule catalogue: metadata in ``catalogue.yaml``, one function per rule in the
pattern modules, tied together by id. Importing this package registers every rule and checks
that the catalogue and the code agree (a rule without metadata, or metadata without a rule,
fails at import, not in production)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from checks.rules import (  # noqa: F401  (imported to register the rules)
    applicability,
    costs,
    dates,
    duplicates,
    links,
    period,
    persons,
    values,
)
from checks.rules.base import RuleContext, registry

CATALOGUE = Path(__file__).with_name("catalogue.yaml")
SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class RuleMeta:
    """One catalogue entry."""

    id: str
    severity: Literal["error", "warning"]
    module: str
    pattern: str
    message: str
    fields: tuple[str, ...]
    how_to_fix: str
    scope: Literal["row", "each_field"] = "row"
    each_field: tuple[str, ...] | None = None

    @property
    def field(self) -> str | None:
        """The field a finding points at."""
        return self.fields[0] if self.fields else None


class CatalogueError(ValueError):
    """The catalogue file and the registered rule functions disagree."""


def _entry(raw: dict) -> RuleMeta:
    missing = {"id", "severity", "module", "pattern", "message", "fields", "how_to_fix"} - set(raw)
    if missing:
        raise CatalogueError(f"{CATALOGUE}: rule {raw.get('id')} lacks {sorted(missing)}")
    if raw["severity"] not in SEVERITIES:
        raise CatalogueError(f"{CATALOGUE}: rule {raw['id']}: severity must be error|warning")
    each = raw.get("each_field")
    return RuleMeta(
        id=raw["id"],
        severity=raw["severity"],
        module=raw["module"],
        pattern=raw["pattern"],
        message=raw["message"],
        fields=tuple(raw["fields"]),
        how_to_fix=raw["how_to_fix"],
        scope=raw.get("scope", "row"),
        each_field=tuple(each) if each else None,
    )


@cache
def catalogue() -> tuple[RuleMeta, ...]:
    """All logical rules, in catalogue order, checked against the registered functions."""
    from cld_schema.spec import load_yaml

    raw = load_yaml(CATALOGUE.read_text(encoding="utf-8"))["rules"]
    metas = tuple(_entry(r) for r in raw)
    ids = [m.id for m in metas]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise CatalogueError(f"{CATALOGUE}: duplicate ids {sorted(dupes)}")
    code = set(registry())
    if set(ids) != code:
        raise CatalogueError(
            f"{CATALOGUE}: catalogue without code {sorted(set(ids) - code)}; "
            f"code without catalogue {sorted(code - set(ids))}"
        )
    return metas


def rule_function(rule_id: str):
    return registry()[rule_id]


__all__ = ["CatalogueError", "RuleContext", "RuleMeta", "catalogue", "rule_function"]
