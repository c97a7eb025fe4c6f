"""A broken spec folder (a bad ``releases.yaml``, ``fields.yaml`` or ``lists.yaml``, or
``CLD_SPEC_DIR`` at a folder without the spec) is one line from the real ``cld`` command,
naming the file and what is wrong, exit 2, no traceback. The spec is read on first use, not
when ``cld_schema`` is imported (architecture d8)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cld_schema import DATA_DIR

CLD = shutil.which("cld", path=str(Path(sys.executable).parent)) or shutil.which("cld")


def _cld(spec_dir: Path, *args: str) -> subprocess.CompletedProcess:
    assert CLD, "the cld command is not installed beside this Python"
    env = {**os.environ, "CLD_SPEC_DIR": str(spec_dir)}
    return subprocess.run([CLD, *args], env=env, capture_output=True, text=True, timeout=300)


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "spec"
    shutil.copytree(DATA_DIR, target)
    return target


def _one_line_error(out: subprocess.CompletedProcess, *expected: str) -> str:
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ")
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def test_releases_yaml_not_yaml(tmp_path: Path):
    spec = _copy(tmp_path)
    (spec / "releases.yaml").write_text("R1: [unclosed\n", encoding="utf-8")
    path = str(spec / "releases.yaml")
    for args in (["--help"], ["spec", "releases"], ["rules"]):
        _one_line_error(_cld(spec, *args), path, "not valid YAML")


def test_releases_yaml_with_a_bad_entry(tmp_path: Path):
    spec = _copy(tmp_path)
    rel = spec / "releases.yaml"
    text = rel.read_text(encoding="utf-8")
    assert "from_quarter: 2025-26Q2" in text
    rel.write_text(text.replace("from_quarter: 2025-26Q2", "from_quarter: soon"),
                   encoding="utf-8")
    _one_line_error(_cld(spec, "spec", "releases"), str(rel), "'soon'", "from_quarter")


def test_fields_yaml_naming_an_unknown_type(tmp_path: Path):
    spec = _copy(tmp_path)
    fields = spec / "fields.yaml"
    text = fields.read_text(encoding="utf-8")
    fields.write_text(text.replace("  type: code\n", "  type: colour\n", 1), encoding="utf-8")
    # the help still works (it needs only releases.yaml); a command reading the fields says why
    assert _cld(spec, "--help").returncode == 0
    _one_line_error(_cld(spec, "spec", "fields"), str(fields), "LA_Code")


def test_lists_yaml_not_utf8(tmp_path: Path):
    spec = _copy(tmp_path)
    lists = spec / "lists.yaml"
    lists.write_bytes(b"\xff\xfe" + lists.read_bytes())
    _one_line_error(_cld(spec, "spec", "lists", "Client_Type"), str(lists), "UTF-8")


def test_spec_dir_without_the_spec(tmp_path: Path):
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    _one_line_error(_cld(empty, "spec", "releases"), str(empty / "releases.yaml"), "missing")


def test_importing_the_package_reads_no_spec(tmp_path: Path):
    """``import cld_schema`` (and the stages importing it) works over a broken folder; the
    release names raise the SpecError where they are first used."""
    spec = _copy(tmp_path)
    (spec / "releases.yaml").write_text("R1: [unclosed\n", encoding="utf-8")
    code = ("import cld_schema, pipelines.period, pipelines.cli\n"
            "try:\n    cld_schema.RELEASES\nexcept cld_schema.SpecError as e:\n"
            "    print('SpecError', 'releases.yaml' in str(e))\n")
    env = {**os.environ, "CLD_SPEC_DIR": str(spec)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["SpecError", "True"], out.stderr


@pytest.mark.parametrize("name", ["RELEASES", "LATEST_RELEASE"])
def test_release_names_still_import_from_the_package(name: str):
    import cld_schema
    from cld_schema import spec

    names = spec.release_names()
    assert getattr(cld_schema, name) == getattr(spec, name)
    assert names == cld_schema.RELEASES and names[-1] == cld_schema.LATEST_RELEASE
