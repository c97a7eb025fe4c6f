"""Known defects injected into the sample council, and their manifest (docs/contracts.md s.7)."""

from __future__ import annotations

import csv
from pathlib import Path

MANIFEST_COLUMNS = [
    "defect_id",
    "kind",
    "source",
    "record_key",
    "person_id",
    "cld_field",
    "event_type",
    "detected_by",
    "detail",
    "periods",
]


def inject_db(tables, builder, rng, per_kind, window, ids):
    return []


def inject_feeds(carers, equipment, rng, per_kind, window, known):
    return carers, equipment, []


def malformed_files(feeds_dir, carers, equipment, rng, per_kind):
    return [], []


def write_manifest(path: Path, rows, data, periods) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, MANIFEST_COLUMNS, lineterminator="\n")
        w.writeheader()
        for i, r in enumerate(rows, start=1):
            w.writerow({**r, "defect_id": f"D{i:05d}", "periods": ";".join(periods)})
