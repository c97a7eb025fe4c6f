"""The import-time checks of the rule pairs (checks/rules/<pattern>.py + <pattern>.yaml): each
problem is refused with one line naming the file and the rule id. Run on a temporary copy of
the rules folder, with the real registered functions and the spec's field names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checks.rules import RULES_DIR, CatalogueError, catalogue, load_rules, spec_field_names
from checks.rules.base import registry


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for p in RULES_DIR.glob("*.yaml"):
        shutil.copy(p, tmp_path / p.name)
    return tmp_path


def _load(folder: Path):
    return load_rules(folder, registry(), spec_field_names())


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_copy_loads_as_the_catalogue(folder: Path):
    assert _load(folder) == catalogue()


def test_duplicate_id_in_another_file(folder: Path):
    dates = (folder / "dates.yaml").read_text(encoding="utf-8")
    entry = dates[dates.index("LOG001:") : dates.index("LOG002:")]
    (folder / "values.yaml").write_text(
        (folder / "values.yaml").read_text(encoding="utf-8") + entry, encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match=r"values\.yaml: rule LOG001: duplicate id"):
        _load(folder)


def test_duplicate_id_in_the_same_file(folder: Path):
    dates = (folder / "dates.yaml").read_text(encoding="utf-8")
    entry = dates[dates.index("LOG001:") : dates.index("LOG002:")]
    (folder / "dates.yaml").write_text(dates + entry, encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"dates\.yaml: rule LOG001: duplicate id"):
        _load(folder)


def test_id_without_a_function(folder: Path):
    _edit(folder / "dates.yaml", "LOG001:", "LOG999:")
    with pytest.raises(CatalogueError, match=r"dates\.yaml: rule LOG999: no function registered"):
        _load(folder)


def test_function_without_an_entry(folder: Path):
    dates = (folder / "dates.yaml").read_text(encoding="utf-8")
    entry = dates[dates.index("LOG001:") : dates.index("LOG002:")]
    (folder / "dates.yaml").write_text(dates.replace(entry, ""), encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"dates\.yaml: rule LOG001: registered in dates\.py"):
        _load(folder)


def test_entry_in_the_wrong_file(folder: Path):
    dates = (folder / "dates.yaml").read_text(encoding="utf-8")
    entry = dates[dates.index("LOG001:") : dates.index("LOG002:")]
    (folder / "dates.yaml").write_text(dates.replace(entry, ""), encoding="utf-8")
    (folder / "values.yaml").write_text(
        (folder / "values.yaml").read_text(encoding="utf-8") + entry, encoding="utf-8"
    )
    with pytest.raises(
        CatalogueError, match=r"values\.yaml: rule LOG001: its function is in dates"
    ):
        _load(folder)


def test_misspelt_field(folder: Path):
    _edit(
        folder / "dates.yaml",
        "fields: [Event_End_Date, Event_Start_Date]",
        "fields: [Event_End_Date, Event_Start_Dte]",
    )
    with pytest.raises(
        CatalogueError, match=r"dates\.yaml: rule LOG001: 'Event_Start_Dte' is not a field"
    ):
        _load(folder)


def test_case_without_a_passing_row(folder: Path):
    _edit(folder / "dates.yaml", "expect: [true, false]", "expect: [true, true]")
    with pytest.raises(
        CatalogueError, match=r"dates\.yaml: rule LOG001: case 1 needs a failing and a passing row"
    ):
        _load(folder)


def test_rule_without_cases(folder: Path):
    _edit(
        folder / "dates.yaml",
        '  cases:\n  - {rows: [{Event_End_Date: "2024-02-01"}, {}], expect: [true, false]}\n',
        "",
    )
    with pytest.raises(CatalogueError, match=r"dates\.yaml: rule LOG001: lacks \['cases'\]"):
        _load(folder)
