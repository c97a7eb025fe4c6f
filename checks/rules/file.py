"""File rules: findings about the file itself (encoding, byte-order mark, rows, header), from
what the CLD file reader found (``CldFileInfo``). Texts, severity and module are in the
sibling ``file.yaml``; each function here says whether its rule fires and, if so, the values
its texts name (``{}`` when they name none). Checked at import: every yaml id has its
function and every function its yaml entry."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from checks import findings

YAML = Path(__file__).with_suffix(".yaml")
_RULES: dict[str, Callable[[Any], dict[str, Any] | None]] = {}


def file_rule(rule_id: str):
    def register(fn):
        if rule_id in _RULES:
            raise ValueError(f"{Path(__file__).name}: file rule {rule_id} registered twice")
        _RULES[rule_id] = fn
        return fn

    return register


@file_rule("FILE_bom")
def bom(info) -> dict | None:
    return {} if info.bom else None


@file_rule("FILE_encoding")
def encoding(info) -> dict | None:
    return {} if info.encoding == "utf-8" else None


@file_rule("FILE_no_rows")
def no_rows(info) -> dict | None:
    return {} if info.rows == 0 else None


@file_rule("FILE_header")
def header(info) -> dict | None:
    faults = getattr(info, "header_faults", None)
    if not faults:
        return None
    return {
        "release": info.release,
        "period": f" of period {info.period}" if info.period else "",
        "header_style": info.header_style,
        "faults": faults.text(),
    }


@file_rule("FILE_header_order")
def header_order(info) -> dict | None:
    # a header that does not match at all is FILE_header's alone
    if getattr(info, "header_faults", None) or info.header_order_ok:
        return None
    return {}


@file_rule("FILE_release_period")
def release_period(info) -> dict | None:
    asked = getattr(info, "asked_release", None)
    if not (asked and info.period_release and asked != info.period_release):
        return None
    return {"period_release": info.period_release, "period": info.period, "asked": asked}


@cache
def texts() -> dict[str, dict[str, str]]:
    """The file rules' metadata from ``file.yaml``, checked against the functions."""
    from cld_schema.spec import load_yaml

    raw = load_yaml(YAML.read_text(encoding="utf-8")) or {}
    missing = sorted(set(raw) - set(_RULES))
    extra = sorted(set(_RULES) - set(raw))
    if missing or extra:
        raise ValueError(
            f"{YAML.name}: ids without a function in {Path(__file__).name}: {missing}; "
            f"functions without an entry: {extra}"
        )
    for rid, meta in raw.items():
        need = {"severity", "module", "message", "how_to_fix"}
        if set(meta) != need:
            raise ValueError(f"{YAML.name}: {rid} needs exactly the keys {sorted(need)}")
    return {rid: {"id": rid, **meta} for rid, meta in raw.items()}


def file_findings(info) -> pl.DataFrame:
    """Findings about the file itself, in file.yaml's order."""
    rows = []
    for rid, meta in texts().items():
        values = _RULES[rid](info)
        if values is None:
            continue
        rows.append(
            {
                "rule_id": rid,
                "severity": meta["severity"],
                "module": meta["module"],
                "category": "field",
                "message": meta["message"].format(**values),
                "how_to_fix": meta["how_to_fix"].format(**values),
            }
        )
    return findings.make(rows)


texts()  # the yaml and the functions agree, or the import fails naming the file
