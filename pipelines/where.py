"""Where is it defined? One lookup from a name a user or a newcomer meets to the file and line
that holds it: a rule id (``LOG025``, ``FLD_Gender_mandatory``, ``FILE_bom``,
``QNT_complete_Gender``), a CLD field (``Date_of_Birth`` or its label ``Date of Birth``), a
defined list, an extract or history SQL query (``workflow_steps``), a thresholds section or
key (``completeness``, ``max_change``), a ``cld.toml`` section or key (``reference_date``),
an error class (``ConfigError``) and a SALT/ASCOF measure (``ASCOF_2A``).

It reads the project's files as text (plus the rule catalogue), so it is quick and imports
none of the heavy libraries; ``cld where NAME`` prints what it finds. Names are matched
case-insensitively; a name that matches nothing gets the nearest known names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "checks" / "rules"
SPEC = ROOT / "cld_schema" / "data"
SQL = ROOT / "sql"
CONFIG_PY = ROOT / "pipelines" / "config.py"
THRESHOLDS_YAML = ROOT / "data" / "sample" / "thresholds.yaml"
MEASURES_PY = ROOT / "pipelines" / "measures" / "__init__.py"
CODE_DIRS = ("cld_schema", "checks", "pipelines", "flows")


@dataclass(frozen=True)
class Place:
    """One place a name is defined: what it is, the file (relative to the project) and line."""

    kind: str
    name: str
    path: str
    line: int
    note: str = ""

    def __str__(self) -> str:
        note = f"  ({self.note})" if self.note else ""
        return f"{self.kind:<18} {self.name:<36} {self.path}:{self.line}{note}"


def _rel(path: Path) -> str:
    return path.resolve().relative_to(ROOT).as_posix()


@cache
def _lines(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8").splitlines())


def _find(path: Path, pattern: str) -> int | None:
    """The first line (1-based) of ``path`` matching the regex ``pattern``."""
    rx = re.compile(pattern)
    for i, text in enumerate(_lines(path), 1):
        if rx.search(text):
            return i
    return None


def _place(kind: str, name: str, path: Path, pattern: str, note: str = "") -> Place | None:
    line = _find(path, pattern) if path.exists() else None
    return None if line is None else Place(kind, name, _rel(path), line, note)


# --- the spec -------------------------------------------------------------------------------

@cache
def _fields() -> dict[str, tuple[str, int]]:
    """Every field named in fields.yaml or releases.yaml: name -> (label, line in its file)."""
    out: dict[str, tuple[str, int]] = {}
    for path in (SPEC / "fields.yaml", SPEC / "releases.yaml"):
        lines = _lines(path)
        for i, text in enumerate(lines, 1):
            m = re.match(r"\s*-?\s*name:\s*([A-Za-z][A-Za-z0-9_]*)\s*$", text)
            if m and m.group(1) not in out:
                label = ""
                for nxt in lines[i : i + 4]:
                    lm = re.match(r"\s*label:\s*(.+?)\s*$", nxt)
                    if lm:
                        label = lm.group(1).strip("'\"")
                        break
                out[m.group(1)] = (label, i)
    return out


def _field_places(name: str) -> Iterator[Place]:
    key = name.replace(" ", "_").lower()
    for field, (label, _line) in _fields().items():
        if field.lower() == key or label.lower() == name.lower():
            for path in (SPEC / "fields.yaml", SPEC / "releases.yaml"):
                p = _place("field", field, path, rf"^\s*-?\s*name:\s*{field}\s*$",
                           f"label {label!r}" if label else "")
                if p:
                    yield p


@cache
def _lists() -> dict[str, int]:
    """Every defined list in lists.yaml (a top-level key): name -> line."""
    return {
        m.group(1): i
        for i, text in enumerate(_lines(SPEC / "lists.yaml"), 1)
        if (m := re.match(r"^([A-Za-z][A-Za-z0-9_]*):\s*$", text))
    }


def _list_places(name: str) -> Iterator[Place]:
    for lst, line in _lists().items():
        if lst.lower() == name.replace(" ", "_").lower():
            yield Place("defined list", lst, _rel(SPEC / "lists.yaml"), line)


# --- rules ----------------------------------------------------------------------------------

@cache
def _rule_ids() -> tuple[str, ...]:
    """Every rule id the engine can raise in some release (the catalogue, built once)."""
    from checks.catalogue import catalogue_frame
    from cld_schema import RELEASES

    ids: list[str] = []
    for release in RELEASES:
        ids += catalogue_frame(release)["rule_id"].to_list()
    return tuple(dict.fromkeys(ids))


def _rule_places(rid: str) -> Iterator[Place]:
    exact = re.escape(rid)
    if rid.startswith("FLD_"):
        fields = sorted(_fields(), key=len, reverse=True)
        field = next((f for f in fields if rid.startswith(f"FLD_{f}_")), None)
        if field is None:
            return
        kind = rid[len(f"FLD_{field}_"):]
        texts = RULES / "fields.yaml"
        pattern = r"^mandatory:" if kind == "mandatory" else rf"kind:\s*{kind}\b"
        p = _place("rule", rid, texts, pattern, f"the text of every FLD_<field>_{kind}")
        if p:
            yield p
        if kind != "mandatory":
            q = _place("rule (code)", rid, ROOT / "checks" / "contract.py",
                       r"^def field_checks", "the value checks per field type")
            if q:
                yield q
        yield from _field_places(field)
        return
    if rid.startswith("QNT_"):
        qnt = RULES / "quantitative.yaml"
        p = _place("rule", rid, qnt, rf"^\s*id:\s*\"?{exact}\"?\s*$") or next(
            (
                pl
                for key in _qnt_keys()
                if re.fullmatch(_qnt_pattern(key), rid)
                and (pl := _place("rule", rid, qnt, rf"^{key}:"))
            ),
            None,
        )
        if p:
            yield p
        return
    for yaml in sorted(RULES.glob("*.yaml")):
        p = _place("rule", rid, yaml, rf"^{exact}:")
        if p:
            yield p
            code = yaml.with_suffix(".py")
            q = _place("rule (code)", rid, code, rf"[\"']{exact}[\"']")
            if q:
                yield q


@cache
def _qnt_keys() -> tuple[str, ...]:
    return tuple(
        m.group(1)
        for t in _lines(RULES / "quantitative.yaml")
        if (m := re.match(r"^(QNT_\w+):", t))
    )


def _qnt_pattern(key: str) -> str:
    """The id pattern a quantitative entry gives (``QNT_complete_{field}`` -> a regex)."""
    line = _find(RULES / "quantitative.yaml", rf"^{key}:") or 0
    for text in _lines(RULES / "quantitative.yaml")[line : line + 3]:
        m = re.match(r"\s*id:\s*\"?([^\"]+)\"?\s*$", text)
        if m:
            return re.sub(r"\\\{\w+\\\}", r"\\w+", re.escape(m.group(1)))
    return re.escape(key)


# --- SQL, thresholds, config, errors, measures ----------------------------------------------

def _sql_places(name: str) -> Iterator[Place]:
    stem = name.removesuffix(".sql").lower()
    for path in sorted(SQL.rglob("*.sql")):
        if path.stem.lower() == stem:
            yield Place("SQL query", path.stem, _rel(path), 1)


def _threshold_places(name: str) -> Iterator[Place]:
    key = name.lower()
    for i, text in enumerate(_lines(THRESHOLDS_YAML), 1):
        m = re.match(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*):", text)
        if m and m.group(2).lower() == key:
            where = "section" if not m.group(1) else "key"
            yield Place(f"threshold {where}", m.group(2), _rel(THRESHOLDS_YAML), i,
                        "the sample council's thresholds file")
    model = ROOT / "checks" / "thresholds.py"
    if model.exists():
        p = _place("threshold model", name, model, rf"^\s+{re.escape(name)}\s*:")
        if p:
            yield p


def _config_places(name: str) -> Iterator[Place]:
    key = name.strip("[]").lower()
    section = None
    for i, text in enumerate(_lines(CONFIG_PY), 1):
        m = re.match(r"^class (\w+)Config\(_Section\):", text)
        if m:
            section = m.group(1).lower()
            if section == key:
                yield Place("cld.toml section", f"[{section}]", _rel(CONFIG_PY), i)
            continue
        if text.startswith("class "):
            section = None
        f = re.match(r"^    ([a-z_][a-z0-9_]*)\s*:", text)
        if section and f and f.group(1) == key:
            yield Place("cld.toml key", f"[{section}] {f.group(1)}", _rel(CONFIG_PY), i)


@cache
def _classes() -> dict[str, tuple[Path, int, tuple[str, ...]]]:
    out: dict[str, tuple[Path, int, tuple[str, ...]]] = {}
    for top in CODE_DIRS:
        for path in sorted((ROOT / top).rglob("*.py")):
            for i, text in enumerate(_lines(path), 1):
                m = re.match(r"^\s*class (\w+)\(([^)]*)\)", text)
                if m:
                    bases = tuple(b.strip().split(".")[-1] for b in m.group(2).split(","))
                    out.setdefault(m.group(1), (path, i, bases))
    return out


def error_classes() -> dict[str, tuple[Path, int]]:
    """Every class deriving (by name, through the project's classes) from ``CldError``."""
    classes = _classes()

    def derives(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name == "CldError":
            return True
        if name not in classes or name in seen:
            return False
        return any(derives(b, seen | {name}) for b in classes[name][2])

    return {n: (p, line) for n, (p, line, _b) in classes.items() if derives(n)}


def _error_places(name: str) -> Iterator[Place]:
    for cls, (path, line) in error_classes().items():
        if cls.lower() == name.lower():
            yield Place("error", cls, _rel(path), line, "a CldError: one line, exit 2")


def _measure_places(name: str) -> Iterator[Place]:
    key = name.replace(" ", "_").lower()
    for i, text in enumerate(_lines(MEASURES_PY), 1):
        m = re.match(r'^\s+"((?:ASCOF|SALT)_[A-Za-z0-9_]+)",\s*$', text)
        if m and m.group(1).lower() == key:
            yield Place("measure", m.group(1), _rel(MEASURES_PY), i)


# --- the lookup -----------------------------------------------------------------------------

def locate(name: str) -> list[Place]:
    """Every place ``name`` is defined, most specific first; empty when nothing matches."""
    name = name.strip()
    if not name:
        return []
    places: list[Place] = []
    upper = name.upper()
    if upper.startswith("QNT_"):
        places += _rule_places(upper[:4] + name[4:])
    elif upper.startswith(("LOG", "FLD_", "FILE_")):
        rid = next((r for r in _rule_ids() if r.lower() == name.lower()), None)
        if rid:
            places += _rule_places(rid)
    for finder in (_field_places, _list_places, _sql_places, _threshold_places,
                   _config_places, _error_places, _measure_places):
        places += finder(name)
    return list(dict.fromkeys(places))


def known_names() -> list[str]:
    """Every name :func:`locate` knows (for suggestions and the test that each is found)."""
    names = [r for r in _rule_ids() if "{" not in r]  # QNT_complete_{field}: per field
    names += list(_fields()) + list(_lists())
    names += [p.stem for p in SQL.rglob("*.sql")]
    names += [
        m.group(1)
        for t in _lines(THRESHOLDS_YAML)
        if (m := re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*):", t))
    ]
    names += list(error_classes())
    names += [
        m.group(1) for t in _lines(MEASURES_PY)
        if (m := re.match(r'^\s+"((?:ASCOF|SALT)_[A-Za-z0-9_]+)",\s*$', t))
    ]
    return list(dict.fromkeys(names))


def nearest(name: str, n: int = 5) -> list[str]:
    """The known names closest to ``name`` (a misspelt id)."""
    names = known_names()
    by_lower = {k.lower(): k for k in names}
    return [by_lower[m] for m in difflib.get_close_matches(name.lower(), list(by_lower), n, 0.6)]
