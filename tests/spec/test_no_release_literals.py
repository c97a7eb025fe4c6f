"""No release name written as a string in the pipeline's Python: releases are spec data
(``cld_schema/data/releases.yaml``), so code names them through ``cld_schema.RELEASES``,
``LATEST_RELEASE``, ``release_for`` or a loaded spec's ``release`` / ``based_on``. An AST walk
over the string constants of pipelines/, checks/ and flows/ (docstrings excepted); the
allow-list says for each file why it still writes one."""

from __future__ import annotations

import ast
from pathlib import Path

from cld_schema import RELEASES

ROOT = Path(__file__).resolve().parents[2]

ALLOWED = {
    # "R1".."R4" are the ids of the CQC pack's review figures (R1 overdue reviews ...), not
    # releases
    "pipelines/cqc/figures.py": "CQC figure ids",
    "pipelines/cqc/cases.py": "CQC figure ids",
    "pipelines/cqc/stats.py": "CQC figure ids",
    "pipelines/sample/cqc.py": "CQC figure ids",
    # national methods written against a named release: DHSC's published measure code maps R1
    # outcomes to R2 and defines the measures on R2 keys; a new release needs a new method here,
    # not only data
    "pipelines/cqc/dhsc.py": "DHSC method defined on R1 -> R2",
    "pipelines/cqc/inputs.py": "reads the pack's frames in the R1 layout (DHSC method)",
    "pipelines/cqc/pack.py": "mapping tables for the DHSC method's R1 and R2 frames",
    "pipelines/measures/base.py": "ASCOF/SALT measures defined on R2 keys",
    "pipelines/measures/history.py": "ASCOF/SALT measures defined on R2 keys",
}


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in RELEASES
        and id(node) not in docs
    ]


def test_no_release_names_in_pipeline_code():
    found = []
    for folder in ("pipelines", "checks", "flows"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in ALLOWED:
                continue
            found += [f"{rel}:{line}: {text!r}" for line, text in _literals(path)]
    assert not found, "release names written in code (use cld_schema.RELEASES etc.):\n" + "\n".join(found)


def test_allow_list_is_still_needed():
    """An allowed file that no longer writes a release name leaves the list."""
    stale = [p for p in ALLOWED if not (ROOT / p).exists() or not _literals(ROOT / p)]
    assert not stale, f"drop from ALLOWED: {stale}"


def test_the_walk_finds_a_literal(tmp_path: Path):
    probe = tmp_path / "probe.py"
    probe.write_text('"""R1 in a docstring is fine."""\nX = "R2"\n', encoding="utf-8")
    assert _literals(probe) == [(2, "R2")]
