"""Adding a release is a data change: a copy of the spec data with a made-up Release 3
(``based_on: R2``, its own ``from_quarter``, one field removed, one list value renamed and one
dropped) loads, ``cld spec`` lists it, and a quarter from its start is submitted under it, with
no code changed. Each bad release edit fails at load naming the file and the entry."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cld_schema import DATA_DIR, SpecError, load_spec, release_for, release_names


def _edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.fixture()
def r3_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)

    def add_release(d):
        d["R3"] = {"title": "CLD Release 3 (made up, from 2027-28 Q1)", "from_quarter": "2027-28Q1",
                   "based_on": "R2", "date_format": "%Y-%m-%d", "encoding": "cp1252",
                   "remove_fields": ["Accommodation_Status"]}

    def add_texts(d):
        for dl in d.values():
            for v in dl["values"]:
                if "R2" in v:
                    v["R3"] = v["R2"]
        for v in d["Client_Type"]["values"]:
            if v["key"] == "CARER":
                v["R3"] = "Carer (unpaid)"
            if v["key"] == "CARER_KNOWN_BY_ASSOCIATION":
                del v["R3"]
                v["R3_maps_to"] = "CARER"

    _edit(target / "releases.yaml", add_release)
    _edit(target / "lists.yaml", add_texts)
    return target


def test_release_3_loads_and_periods_pick_it(r3_dir: Path):
    assert release_names(r3_dir) == ("R1", "R2", "R3")
    r3 = load_spec("R3", r3_dir)
    assert "Accommodation_Status" not in r3.field_names
    assert "Accommodation_Status" in load_spec("R2", r3_dir).field_names
    assert r3.value("Client_Type", "CARER") == "Carer (unpaid)"
    assert r3.r1_to_r2("Client_Type")["Unpaid carer known by association"] == "Carer (unpaid)"
    # earlier releases' texts that R3 does not accept: R1's and R2's
    assert {"Carer", "Unpaid carer"} <= set(r3.r1_values_only("Client_Type"))
    assert release_for(2027, 1, r3_dir) == "R3"
    assert release_for(2026, 4, r3_dir) == "R2"
    assert release_for(2025, 1, r3_dir) == "R1"


def _cld(args: list[str], spec_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CLD_SPEC_DIR": str(spec_dir), "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-c", "from pipelines.cli import main; main()", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_and_period_use_release_3_without_code_changes(r3_dir: Path):
    out = _cld(["spec", "releases"], r3_dir)
    assert out.returncode == 0, out.stderr
    assert "R3" in out.stdout and "2027-28Q1" in out.stdout
    out = _cld(["spec", "lists", "Client_Type"], r3_dir)  # the latest release by default
    assert out.returncode == 0, out.stderr
    assert "Carer (unpaid)" in out.stdout and "(R3)" in out.stdout
    out = _cld(["spec", "diff"], r3_dir)  # R2 -> R3
    assert out.returncode == 0, out.stderr
    assert "Accommodation_Status" in out.stdout
    code = ("from pipelines.period import Period; "
            "print(Period.parse('2027-28Q1').default_release, "
            "Period.parse('2026-27Q4').default_release)")
    env = {**os.environ, "CLD_SPEC_DIR": str(r3_dir)}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.stdout.split() == ["R3", "R2"], run.stderr


def test_cld_spec_releases_today():
    out = subprocess.run([sys.executable, "-c", "from pipelines.cli import main; main()", "spec", "releases"],
                         env={**os.environ, "COLUMNS": "250"}, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "2025-26Q2" in out.stdout and "R3" not in out.stdout


def test_text_for_a_release_not_named_is_an_error(r3_dir: Path):
    def bad(d):
        d["Client_Type"]["values"][0]["R9"] = "Service user"

    _edit(r3_dir / "lists.yaml", bad)
    with pytest.raises(SpecError, match=r"lists\.yaml: list 'Client_Type': value 'SERVICE_USER'"
                                        r" has a text for 'R9', which is not a release"):
        load_spec("R2", r3_dir)


def test_bad_from_quarter_is_named(r3_dir: Path):
    def bad(d):
        d["R3"]["from_quarter"] = "2027Q1"

    _edit(r3_dir / "releases.yaml", bad)
    with pytest.raises(SpecError, match=r"releases\.yaml: release 'R3': from_quarter '2027Q1'"):
        load_spec("R2", r3_dir)

    def missing(d):
        del d["R3"]["from_quarter"]

    _edit(r3_dir / "releases.yaml", missing)
    with pytest.raises(SpecError, match=r"releases\.yaml: release 'R3': from_quarter"):
        load_spec("R2", r3_dir)


def test_translate_from_follows_the_chain(r3_dir: Path):
    import polars as pl

    r1, r2, r3 = (load_spec(r, r3_dir) for r in ("R1", "R2", "R3"))
    frame = pl.DataFrame({"Client_Type": ["Carer", "Carer known by association", "Service User",
                                          "Nonsense", None]})
    # R1 -> R3 in one go: CARER's R3 text; CKBA folded into CARER by R3_maps_to
    out = frame.select(r3.translate_from(r1)["Client_Type"]).to_series().to_list()
    assert out == ["Carer (unpaid)", "Carer (unpaid)", "Service user", None, None]
    kept = frame.select(r3.translate_from(r1, keep_unknown=True)["Client_Type"])
    assert kept.to_series().to_list()[3] == "Nonsense"
    # the shipped R1 -> R2 translation is the spec's r1_to_r2 map plus R2's own texts
    assert r2.translation_from(r1)["Client_Type"] == {
        **r2.r1_to_r2("Client_Type"), **{v: v for v in r2.values("Client_Type")}}
