"""The logical rule catalogue: each rule family is a pair of sibling files,
``<pattern>.py`` (one function per rule, registered under its id with ``@rule``) and
``<pattern>.yaml`` (everything people read, and the rule's test cases). Importing this
package registers every rule and checks the pairs agree; a problem fails at import with one
line naming the file and the rule id, not in production.

A ``<pattern>.yaml`` entry, keyed by rule id:
  severity:   error (the national portal or DQ report would fail it) | warning (quality)
  module:     the national DQ module the finding is counted under (rules.md section 9)
  message:    what the finding says
  fields:     the first is the field a finding points at; the rest are the fields the rule reads
  scope:      row (default) | each_field (the rule runs once per field listed in each_field,
              by name or as type:<spec type>, e.g. type:text; findings name that field).
              Value rules run on free-text fields only: a list, date, number, NHS number or
              postcode field with such a value already fails its field check.
  how_to_fix: in case-system terms, for the worker who owns the record
  releases:   optional: the releases the rule runs on (default every release); the engine
              skips the rule on the others (no `if ctx.release` in a rule)
  cases:      the rule's tests: each ``{rows: [...], expect: [...]}``, rows as overrides of a
              valid base row (a service user's request completed in 2024, period
              2024-01-01..2024-12-31; see tests/checks/rules/test_rules.py), expect saying
              which rows the rule must flag. Every case has a failing and a passing row, so
              removing or inverting a rule fails its test. ``key:NAME`` is a defined-list value
              by its stable KEY (release-independent); null means blank; each_field rules name
              the ``field``; ``release`` picks the release (default R1).

Checked at import: ids unique across the files; every id has its function in the sibling
``.py`` and every registered function an entry; every ``fields:``/``each_field`` name is a
field of some release; every case has a failing and a passing row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

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
from cld_schema.errors import CldError

RULES_DIR = Path(__file__).parent
# The families in catalogue order (the order of findings and of ``cld rules``).
PATTERNS = ("dates", "period", "persons", "links", "applicability", "costs", "values", "duplicates")
SEVERITIES = ("error", "warning")
_REQUIRED = {"severity", "module", "message", "fields", "how_to_fix", "cases"}
_KNOWN = _REQUIRED | {"scope", "each_field", "releases"}


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
    cases: tuple[dict[str, Any], ...] = ()
    releases: tuple[str, ...] | None = None  # None: every release

    @property
    def field(self) -> str | None:
        """The field a finding points at."""
        return self.fields[0] if self.fields else None

    def applies_to(self, release: str) -> bool:
        """Whether the rule runs on a file of this release (its yaml ``releases:``)."""
        return self.releases is None or release in self.releases


class CatalogueError(CldError, ValueError):
    """A rule file and the registered rule functions (or the spec) disagree."""


def _check_case(where: str, i: int, case: Any) -> None:
    if not isinstance(case, dict) or not isinstance(case.get("rows"), list):
        raise CatalogueError(f"{where}: case {i + 1} needs rows: [...] and expect: [...]")
    expect = case.get("expect")
    if not isinstance(expect, list) or len(expect) != len(case["rows"]):
        raise CatalogueError(f"{where}: case {i + 1}: expect needs one true/false per row")
    if True not in expect or False not in expect:
        raise CatalogueError(f"{where}: case {i + 1} needs a failing and a passing row")


def _entry(path: Path, pattern: str, rid: str, raw: Any, known_fields: set[str]) -> RuleMeta:
    where = f"{path}: rule {rid}"
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: expected a mapping of keys")
    missing = _REQUIRED - set(raw)
    if missing:
        raise CatalogueError(f"{where}: lacks {sorted(missing)}")
    unknown = set(raw) - _KNOWN
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
    if raw["severity"] not in SEVERITIES:
        raise CatalogueError(f"{where}: severity must be error|warning")
    scope = raw.get("scope", "row")
    if scope not in ("row", "each_field"):
        raise CatalogueError(f"{where}: scope must be row|each_field")
    each = raw.get("each_field")
    named = list(raw["fields"] or []) + [n for n in each or [] if not n.startswith("type:")]
    for name in named:
        if name not in known_fields:
            raise CatalogueError(f"{where}: {name!r} is not a field of any release")
    cases = raw["cases"]
    if not isinstance(cases, list) or not cases:
        raise CatalogueError(f"{where}: cases needs at least one case")
    for i, case in enumerate(cases):
        _check_case(where, i, case)
    releases = _releases(where, raw.get("releases"), cases)
    return RuleMeta(
        id=rid,
        severity=raw["severity"],
        module=raw["module"],
        pattern=pattern,
        message=raw["message"],
        fields=tuple(raw["fields"]),
        how_to_fix=raw["how_to_fix"],
        scope=scope,
        each_field=tuple(each) if each else None,
        cases=tuple(cases),
        releases=releases,
    )


def _releases(where: str, raw: Any, cases: list) -> tuple[str, ...] | None:
    """The ``releases:`` key: some of the spec's releases; each case in one of them."""
    if raw is None:
        return None
    from cld_schema import RELEASES

    if not isinstance(raw, list) or not raw or set(raw) - set(RELEASES):
        raise CatalogueError(f"{where}: releases must list some of {list(RELEASES)}")
    for i, case in enumerate(cases):
        if case.get("release", RELEASES[0]) not in raw:
            raise CatalogueError(f"{where}: case {i + 1} is for a release the rule does not run on")
    return tuple(raw)


_TOP_KEY = re.compile(r"^([^\s#-][^:]*):", re.MULTILINE)


def load_rules(
    folder: Path,
    functions: dict[str, Callable[..., Any]],
    known_fields: set[str],
    patterns: Iterable[str] = PATTERNS,
) -> tuple[RuleMeta, ...]:
    """Read every ``<pattern>.yaml`` in ``folder`` and check it against the registered
    ``functions`` (each must live in ``<pattern>.py``) and the spec's field names."""
    from cld_schema.spec import load_yaml

    metas: list[RuleMeta] = []
    seen: dict[str, Path] = {}
    for pattern in patterns:
        path = folder / f"{pattern}.yaml"
        if not path.exists():
            raise CatalogueError(f"{path}: rule file missing beside {pattern}.py")
        text = path.read_text(encoding="utf-8")
        for rid in _TOP_KEY.findall(text):  # the YAML loader keeps only the last of a repeat
            if rid in seen:
                raise CatalogueError(f"{path}: rule {rid}: duplicate id (also in {seen[rid]})")
            seen[rid] = path
        raw = load_yaml(text) or {}
        if not isinstance(raw, dict):
            raise CatalogueError(f"{path}: expected a mapping of rule id -> entry")
        for rid, body in raw.items():
            fn = functions.get(rid)
            if fn is None:
                raise CatalogueError(f"{path}: rule {rid}: no function registered in {pattern}.py")
            home = fn.__module__.rsplit(".", 1)[-1]
            if home != pattern:
                raise CatalogueError(
                    f"{path}: rule {rid}: its function is in {home}.py, not {pattern}.py"
                )
            metas.append(_entry(path, pattern, rid, body, known_fields))
    for rid, fn in functions.items():
        if rid not in seen:
            home = fn.__module__.rsplit(".", 1)[-1]
            raise CatalogueError(
                f"{folder / (home + '.yaml')}: rule {rid}: registered in {home}.py without an entry"
            )
    return tuple(metas)


def spec_field_names() -> set[str]:
    """Every field name of every release."""
    from cld_schema import RELEASES, load_spec

    return {name for r in RELEASES for name in load_spec(r).field_names}


@cache
def catalogue() -> tuple[RuleMeta, ...]:
    """All logical rules, in catalogue order, checked against the registered functions."""
    return load_rules(RULES_DIR, registry(), spec_field_names())


def rule_function(rule_id: str):
    return registry()[rule_id]


catalogue()  # the pairs are checked when the package is imported

__all__ = [
    "CatalogueError",
    "RuleContext",
    "RuleMeta",
    "catalogue",
    "load_rules",
    "rule_function",
]
