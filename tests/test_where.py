"""A newcomer finds anything from its name with one search: ``cld where NAME`` (and, for a
logical rule, a plain grep finds exactly its family's two files)."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from checks.catalogue import catalogue_frame
from checks.rules import catalogue
from cld_schema import RELEASES, load_spec
from cld_schema.errors import CldError
from pipelines.where import ROOT, error_classes, known_names, locate, nearest

CLD = Path(sys.executable).with_name("cld")


def _line(place) -> str:
    return (ROOT / place.path).read_text(encoding="utf-8").splitlines()[place.line - 1]


def test_every_known_name_is_found_at_a_line_that_names_it():
    names = known_names()
    assert len(names) > 300  # rules, fields, lists, SQL, thresholds, errors, measures
    for name in names:
        places = locate(name)
        assert places, name
        for place in places:
            assert _names(place, name, _line(place)), (name, place)


def _names(place, name: str, text: str) -> bool:
    """Whether the line at ``place`` is where ``name`` is defined."""
    if place.kind == "SQL query":
        return Path(place.path).stem == name
    if place.kind == "cld.toml section":
        return f"class {name.strip('[]').capitalize()}Config(" in text
    if place.kind == "cld.toml key":
        return text.strip().startswith(place.name.split()[-1] + ":")
    if place.kind == "rule (code)" and name.startswith("FLD_"):
        return text.startswith("def field_checks")
    if place.kind == "rule" and name.startswith("FLD_"):
        return name.rsplit("_", 1)[1] in text
    if place.kind == "rule" and "{" in text:  # QNT_complete_{field}
        pattern = re.escape(text.split("id:")[1].strip().strip('"'))
        return re.fullmatch(re.sub(r"\\\{\w+\\\}", r"\\w+", pattern), name) is not None
    return re.search(rf"\b{re.escape(place.name)}\b", text) is not None


def test_every_rule_the_engine_can_raise_is_found():
    for release in RELEASES:
        for rid in catalogue_frame(release)["rule_id"]:
            rid = rid.replace("{field}", "Gender")
            assert any(p.kind == "rule" for p in locate(rid)), rid


def test_a_logical_rule_is_in_its_family_pair_and_nowhere_else_in_the_code():
    """`grep -rw LOG025` over the code finds the family's .yaml (texts, cases) and .py (the
    expression), nothing else: one search, no second place to keep in step."""
    code = [ROOT / d for d in ("checks", "pipelines", "cld_schema", "flows", "sql")]
    for meta in catalogue():
        out = subprocess.run(
            ["grep", "-rlw", "--include=*.py", "--include=*.yaml", "--include=*.sql",
             meta.id, *map(str, code)],
            capture_output=True, text=True, check=False,
        ).stdout.split()
        found = {Path(p).resolve().relative_to(ROOT).as_posix() for p in out}
        found -= {"pipelines/where.py", "pipelines/cli/where.py"}  # their help's example
        found.discard("pipelines/outputs/report.py")  # a docstring's example heading
        pair = {f"checks/rules/{meta.pattern}.yaml", f"checks/rules/{meta.pattern}.py"}
        assert found == pair, (meta.id, found)


def test_every_field_of_every_release_by_name_and_label():
    for release in RELEASES:
        for field in load_spec(release).fields:
            for name in (field.name, field.label):
                places = [p for p in locate(name) if p.kind == "field"]
                assert places and places[0].name == field.name, (release, name)


def test_every_error_class_at_its_definition():
    """The static reading of the code agrees with the real classes: each CldError subclass
    a user can meet is found where Python says it is defined."""
    real: dict[str, tuple[str, int]] = {}
    for top in ("pipelines", "checks", "cld_schema", "flows"):  # every file, namespace
        for file in sorted((ROOT / top).rglob("*.py")):        # folders included
            parts = file.relative_to(ROOT).with_suffix("").parts
            mod = importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__"
                                                   else parts))
            for _n, cls in inspect.getmembers(mod, inspect.isclass):
                if issubclass(cls, CldError) and cls.__module__ == mod.__name__:
                    path = Path(inspect.getsourcefile(cls)).resolve().relative_to(ROOT)
                    real[cls.__name__] = (path.as_posix(), inspect.getsourcelines(cls)[1])
    static = {n: (p.resolve().relative_to(ROOT).as_posix(), ln)
              for n, (p, ln) in error_classes().items()}
    assert static == real
    for name, (path, line) in real.items():
        assert [(p.path, p.line) for p in locate(name) if p.kind == "error"] == [(path, line)]


@pytest.mark.parametrize(
    ("name", "kind", "path"),
    [
        ("LOG025", "rule", "checks/rules/period.yaml"),
        ("LOG025", "rule (code)", "checks/rules/period.py"),
        ("FLD_Gender_mandatory", "rule", "checks/rules/fields.yaml"),
        ("FLD_NHS_Number_mod11", "rule (code)", "checks/contract.py"),
        ("FILE_bom", "rule (code)", "checks/rules/file.py"),
        ("QNT_complete_Ethnicity", "rule", "checks/rules/quantitative.yaml"),
        ("date of birth", "field", "cld_schema/data/fields.yaml"),
        ("Event_Type", "defined list", "cld_schema/data/lists.yaml"),
        ("workflow_steps.sql", "SQL query", "sql/extract/workflow_steps.sql"),
        ("people_in_scope", "SQL query", "sql/extract/include/people_in_scope.sql"),
        ("max_change", "threshold key", "data/sample/thresholds.yaml"),
        ("reference_date", "cld.toml key", "pipelines/config.py"),
        ("ConfigError", "error", "pipelines/config.py"),
        ("ASCOF_2A", "measure", "pipelines/measures/__init__.py"),
    ],
)
def test_names_a_newcomer_meets(name, kind, path):
    assert (kind, path) in {(p.kind, p.path) for p in locate(name)}


def test_a_misspelt_name_gets_the_nearest():
    assert locate("LOG0255") == []
    assert "LOG025" in nearest("LOG0255")


def test_cld_where_prints_places_and_refuses_unknown_names_in_one_line():
    ok = subprocess.run([str(CLD), "where", "LOG025", "Date of Birth"],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "checks/rules/period.yaml:" in ok.stdout
    assert "cld_schema/data/fields.yaml:" in ok.stdout
    bad = subprocess.run([str(CLD), "where", "LOG0255"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert "LOG025" in bad.stderr
