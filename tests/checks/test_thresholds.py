"""The thresholds file's one model and one reader (issue 17 d4): ``checks.thresholds`` holds
the checks' sections, ``pipelines.thresholds.load`` reads the file once and refuses what it
does not know, naming the file and the key on one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from checks.thresholds import CheckThresholds, ThresholdsError
from pipelines import thresholds
from pipelines.config import PROJECT_ROOT, ConfigError, load_config
from pipelines.history.compare import Thresholds

SAMPLE = PROJECT_ROOT / "data" / "sample" / "thresholds.yaml"


def _file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "thresholds.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_sample_file_loads_as_written():
    """Every section of the sample reaches its model, numbers as written (the findings' texts
    say `1-20000`, not `1.0-20000.0`)."""
    raw = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    got = thresholds.load(SAMPLE)
    assert got.path == SAMPLE
    assert got.checks.completeness == raw["completeness"]
    assert list(got.checks.completeness) == list(raw["completeness"])  # the file's order
    assert got.checks.complete_months.event_types == raw["complete_months"]["event_types"]
    assert got.checks.complete_months.min_events == raw["complete_months"]["min_events"]
    bounds = {k: {"min": b.min, "max": b.max} for k, b in got.checks.volumes.items()}
    assert bounds == raw["volumes"]
    assert all(type(b.max) is int for b in got.checks.volumes.values())
    assert got.checks.previous.max_change == raw["previous"]["max_change"]
    assert got.compare == Thresholds()  # the sample has no compare: section


def test_a_config_reads_its_file(tmp_path):
    p = _file(tmp_path, "completeness:\n  Gender: 0.5\ncompare:\n  min_count: 3\n")
    cfg_file = tmp_path / "cld.toml"
    cfg_file.write_text(f'[council]\nla_code = "999"\n[checks]\nthresholds = "{p.name}"\n')
    got = thresholds.load(load_config(cfg_file))
    assert got.checks.completeness == {"Gender": 0.5} and got.compare.min_count == 3
    (tmp_path / p.name).unlink()
    with pytest.raises(ConfigError, match=r"cld.toml: key \[checks\] thresholds: no such file"):
        thresholds.load(load_config(cfg_file))
    assert thresholds.load(load_config(cfg_file), missing_ok=True) == thresholds.defaults()


def test_empty_sections_and_file_are_the_defaults(tmp_path):
    got = thresholds.load(_file(tmp_path, "completeness:\nprevious:\ncompare:\n"))
    assert got.checks.model_dump() == CheckThresholds().model_dump()
    assert got.compare == Thresholds()
    assert got.checks.complete_months.event_types == ["REQUEST", "ASSESSMENT", "SERVICE"]
    assert (got.checks.complete_months.min_events, got.checks.previous.max_change) == (1, 0.5)
    empty = thresholds.load(_file(tmp_path, "# nothing yet\n")).checks
    assert empty.model_dump() == CheckThresholds().model_dump()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # an unknown section: refused, not silently switching the completeness checks off
        ("completness:\n  Gender: 0.9\n",
         "'completness' is not a section (the sections: completeness, complete_months, "
         "volumes, previous, compare)"),
        # unknown keys, in every section that has keys
        ("complete_months:\n  min_event: 1\n",
         "complete_months: 'min_event' is not a key (the keys: event_types, min_events)"),
        ("previous:\n  max_chnge: 0.5\n", "previous: 'max_chnge' is not a key"),
        ("volumes:\n  REQUEST: {maximum: 5}\n",
         "volumes: REQUEST: 'maximum' is not a key (the keys: min, max)"),
        ("compare:\n  month_drop: 15\n", "unknown compare threshold(s) month_drop"),
        # wrong types and values out of range
        ("completeness:\n  Gender: 1.5\n", "completeness: Gender: 1.5 is not a number between 0 and 1"),
        ("completeness:\n  Gender: high\n", "completeness: Gender: 'high' is not a number"),
        ("completeness:\n  Gender: true\n", "completeness: Gender: True is not a number"),
        ("completeness:\n  Gender: {mostly: high}\n", "completeness: Gender: {'mostly': 'high'}"),
        ("completeness: [Gender]\n", "completeness: must be a mapping of keys"),
        ("complete_months:\n  min_events: one\n", "complete_months: min_events: 'one' is not a number"),
        ("complete_months:\n  event_types: [REQUEST, REQUESTS]\n",
         "complete_months: event_types: 'REQUESTS' is not one of"),
        ("volumes:\n  REQUESTS: {max: 5}\n", "volumes: 'REQUESTS' is not one of"),
        ("volumes:\n  REQUEST: {min: -1}\n", "volumes: REQUEST: min: -1 is not a number"),
        ("previous:\n  max_change: lots\n", "previous: max_change: 'lots' is not a number"),
        ("compare:\n  min_count: twenty\n", "compare: min_count: 'twenty' is not a number"),
        ("- completeness\n", "the thresholds file must be a mapping of sections"),
    ],
)
def test_a_mistake_is_one_line_naming_file_and_key(tmp_path, text, message):
    p = _file(tmp_path, text)
    with pytest.raises(ConfigError) as got:
        thresholds.load(p)
    said = str(got.value)
    assert said.startswith(f"{p}: "), said
    assert message in said and "\n" not in said
    assert "pydantic" not in said and "errors.pydantic.dev" not in said


def test_completeness_fields_are_checked_against_the_spec(tmp_path, spec_r1):
    p = _file(tmp_path, "completeness:\n  Gendr: 0.9\n  Gender: 0.9\n")
    got = thresholds.load(p)  # the release is the file's, known when its checks run
    with pytest.raises(ThresholdsError, match=f"^{re.escape(str(p))}: completeness: 'Gendr' "
                                              "is not a R1 field$"):
        got.checks.check_fields(spec_r1)
    fine = thresholds.load(_file(tmp_path, "completeness:\n  Gender: 0.9\n"))
    fine.checks.check_fields(spec_r1)  # no error
    assert fine.checks.completeness_fields(spec_r1) == ["Gender"]


def test_the_checks_refuse_an_unknown_field_before_running(spec_r1):
    """run_checks takes the typed part and checks its field names against the spec."""
    from checks import run_checks
    from tests.checks.conftest import frame_of

    bad = CheckThresholds.parse({"completeness": {"Gendr": 0.9}})
    with pytest.raises(ThresholdsError, match="'Gendr' is not a R1 field"):
        run_checks(frame_of(spec_r1, [{}]), spec_r1, thresholds=bad)


def test_cld_check_with_a_misspelt_section_is_one_line_exit_2(tmp_path, spec_r1):
    """The real `cld` command: one line on stderr naming the file and the section, exit 2,
    no traceback, and nothing checked (no findings folder)."""
    from tests.checks.test_cli import _write

    sub = tmp_path / "sub.csv"
    _write(spec_r1, sub, [{}])
    bad = _file(tmp_path, "completness:\n  Gender: 0.9\n")
    cfg = tmp_path / "cld.toml"
    cfg.write_text(f'[council]\nla_code = "999"\n[checks]\nthresholds = "{bad.name}"\n')
    out = tmp_path / "findings"
    cld = str(Path(sys.executable).parent / "cld")
    proc = subprocess.run([cld, "--config", str(cfg), "check", str(sub), "--no-docs",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0] == (f"error: {bad}: 'completness' is not a section (the sections: "
                        "completeness, complete_months, volumes, previous, compare)")
    assert "Traceback" not in proc.stderr and not out.exists()
