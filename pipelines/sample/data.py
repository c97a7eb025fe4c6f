"""The sample council's own data files: local picklists, names, teams, sizes, defect kinds.

Everything the generator draws from lives in ``data/sample/`` so a reader can see (and change)
what the synthetic council looks like without reading Python:

* ``lookups/lookup_codes.csv``: the case system's local codes (``code_type, code, description,
  active, weight, source, defect_only``). ``weight`` is how often the generator picks a code
  when nothing in the journey decides it; ``defect_only`` codes exist in the case system but
  have no row in the mapping tables, and are used only by the ``unmapped_local_code`` defect.
* ``lookups/names.csv``, ``lookups/teams.csv``: synthetic names and the team catalogue.
* ``volumes.yaml``: sizes, 12-month targets and the journey mix.
* ``defect_kinds.csv``: the defect kinds of record (docs/contracts.md section 7).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from pipelines.config import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT / "data" / "sample"


@dataclass(frozen=True)
class CodeList:
    """The codes of one local picklist, with their sampling weights."""

    code_type: str
    codes: tuple[str, ...]
    weights: np.ndarray  # normalised; zero for codes chosen only by journey logic
    defect_only: tuple[str, ...]

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` codes by weight (object array), vectorised."""
        return np.asarray(self.codes, dtype=object)[rng.choice(len(self.codes), n, p=self.weights)]


@dataclass
class SampleData:
    lookup_rows: list[dict[str, object]]
    lists: dict[str, CodeList]
    first_female: tuple[str, ...]
    first_male: tuple[str, ...]
    last: tuple[str, ...]
    teams: list[dict[str, str]]
    volumes: dict
    defect_kinds: list[dict[str, str]] = field(default_factory=list)

    def codes(self, code_type: str) -> CodeList:
        return self.lists[code_type]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=4)
def load_sample_data(data_dir: Path = DATA_DIR) -> SampleData:
    """Read every data file once per process (they are small)."""
    lookups = _read_csv(data_dir / "lookups" / "lookup_codes.csv")
    by_type: dict[str, list[dict[str, str]]] = {}
    for row in lookups:
        by_type.setdefault(row["code_type"], []).append(row)
    lists: dict[str, CodeList] = {}
    for ct, rows in by_type.items():
        w = np.array([float(r["weight"] or 0) for r in rows])
        w = w / w.sum() if w.sum() > 0 else np.full(len(rows), 1 / len(rows))
        lists[ct] = CodeList(
            ct,
            tuple(r["code"] for r in rows),
            w,
            tuple(r["code"] for r in rows if r["defect_only"] == "1"),
        )
    db_rows = [
        {
            "code_type": r["code_type"],
            "code": r["code"],
            "description": r["description"],
            "active": r["active"] == "1",
        }
        for r in lookups
        if r["source"] == "case_system"
    ]
    names = _read_csv(data_dir / "lookups" / "names.csv")
    kinds_path = data_dir / "defect_kinds.csv"
    return SampleData(
        lookup_rows=db_rows,
        lists=lists,
        first_female=tuple(n["name"] for n in names if n["kind"] == "first_female"),
        first_male=tuple(n["name"] for n in names if n["kind"] == "first_male"),
        last=tuple(n["name"] for n in names if n["kind"] == "last"),
        teams=_read_csv(data_dir / "lookups" / "teams.csv"),
        volumes=yaml.safe_load((data_dir / "volumes.yaml").read_text(encoding="utf-8")),
        defect_kinds=_read_csv(kinds_path) if kinds_path.exists() else [],
    )


def load_contract(name: str, contracts_dir: Path | None = None) -> dict:
    """A provider feed contract (``data/sample/contracts/<name>.yaml``); feed files follow it."""
    d = contracts_dir or DATA_DIR / "contracts"
    return yaml.safe_load((d / f"{name}.yaml").read_text(encoding="utf-8"))


def load_feedback_layout(path: Path | None = None) -> dict:
    """The NHS-number feedback layout (owned by the history stage); a default when absent."""
    p = path or DATA_DIR / "feedback_layout.yaml"
    if p.exists():
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    return {
        "format": "csv",
        "encodings": ["utf-8-sig"],
        "delimiter": ",",
        "date_format": "%d/%m/%Y",
        "columns": {k: k for k in ("la_person_id", "nhs_number_found", "match_basis", "traced_on")},
        "no_match_value": "NO_MATCH",
    }


# --- shared by the generator's modules (journeys, measure_journeys, feeds, defects) ----------

NULL = -(10**9)  # "no date" in the generator's day-number arrays

# The journey kinds (the order of volumes.yaml's journey mix, journeys.MIX_KEYS).
(CONTACT_ONLY, SHORT_TERM, NEW_LTS, EXISTING_LTS, CARER, CENTRE, OT_EQUIP, OUT_OF_SCOPE) = range(8)

OBJ = object


def _obj(value: object, n: int) -> np.ndarray:
    a = np.empty(n, dtype=OBJ)
    a[:] = value
    return a


def _pick(rng: np.random.Generator, options: dict[str, float], n: int) -> np.ndarray:
    keys = np.asarray(list(options), dtype=OBJ)
    p = np.asarray(list(options.values()), dtype=float)
    return keys[rng.choice(len(keys), n, p=p / p.sum())]


def _write_csv(path: Path, frame: pl.DataFrame, encoding: str, date_fmt: str = "%d/%m/%Y") -> None:
    """A provider file as the providers send it: CRLF lines, dates as dd/mm/yyyy."""
    text = frame.with_columns(
        [pl.col(c).dt.strftime(date_fmt) for c, t in frame.schema.items() if t == pl.Date]
    ).write_csv(null_value="")
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))

