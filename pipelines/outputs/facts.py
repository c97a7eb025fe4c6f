"""What the history does not hold about a run, kept as JSON beside its report
(``run<N>.facts.json``): the build summary's unmapped codes and quarantined files, the Data
Docs folder. Counts, codes, file names and paths only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def facts_path(out_dir: Path, run_id: Any) -> Path:
    return Path(out_dir) / f"run{run_id}.facts.json"

def save_run_facts(out_dir: Path, run_id: Any, *, build: dict | None = None,
                   data_docs: Path | None = None) -> Path:
    """Keep what the history does not hold about a run beside its report (the build
    summary's unmapped codes and quarantined files, the Data Docs folder), so ``cld report``
    run again shows them too. Counts, codes, file names and paths only."""
    path = facts_path(out_dir, run_id)
    known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if build is not None:
        known["build"] = {k: build.get(k) for k in ("period", "release", "reporting_period",
                                                    "unmapped", "feeds", "rows")}
    if data_docs is not None:
        known["data_docs"] = str(Path(data_docs).resolve())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(known, indent=1, default=str), encoding="utf-8")
    return path

def run_facts(out_dir: Path, run_id: Any) -> dict:
    path = facts_path(out_dir, run_id)
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError):
        return {}
