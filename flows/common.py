"""Small helpers shared by the flows: config, period defaults and the UI artefacts.

Nothing here decides anything about CLD data; the artefacts only ever show counts, ids and
paths, so no personal data reaches the Prefect database or UI.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipelines.config import Config, load_config
from pipelines.markdown import markdown_table

# Secrets the stages read from the environment, and the Prefect Secret block that may hold each.
SECRET_BLOCKS = {"CLD_DATABASE_URL": "cld-database-url", "CLD_SMTP_PASSWORD": "cld-smtp-password"}


def secrets_from_blocks() -> list[str]:
    """Fill each secret missing from the environment from its Prefect Secret block, if one
    exists (in this flow-run process only). Returns the names filled, never the values."""
    from prefect.blocks.system import Secret

    filled = []
    for env, block in SECRET_BLOCKS.items():
        if os.environ.get(env):
            continue
        try:
            value = Secret.load(block).get()
        except ValueError:  # no such block
            continue
        if value:
            os.environ[env] = str(value)
            filled.append(env)
    return filled


def config(path: str | Path | None = None) -> Config:
    """The council's config: ``path``, else ``$CLD_CONFIG``, ``./cld.toml``, the sample's;
    secrets from the environment or, failing that, from Prefect Secret blocks."""
    secrets_from_blocks()
    return load_config(path)


def artefact_key(*parts: object) -> str:
    """A Prefect artefact key: lowercase letters, digits and dashes only."""
    text = "-".join(str(p) for p in parts if p is not None).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def rule_counts(summary: Mapping[str, Any], top: int = 50) -> list[dict[str, Any]]:
    """The checks summary's ``by_rule`` (rule id, severity, message, count) as table rows,
    most frequent first: rule-level texts and counts only, never a finding's value."""
    rows = [
        {
            "rule": r.get("rule_id"),
            "severity": r.get("severity"),
            "count": int(r.get("count") or 0),
            "message": str(r.get("message") or "")[:160],
        }
        for r in summary.get("by_rule") or []
    ]
    rows.sort(key=lambda r: (r["severity"] != "error", -r["count"]))
    return rows[:top]


def publish_summary(
    title: str,
    key: str,
    facts: Mapping[str, Any],
    tables: Mapping[str, list[dict[str, Any]]] | None = None,
) -> None:
    """A markdown artefact (facts + small tables) and one table artefact per table."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    lines = [f"# {title}", ""]
    lines += [f"- **{k}**: {v}" for k, v in facts.items()]
    for name, rows in (tables or {}).items():
        lines += ["", f"## {name}", "", markdown_table(rows)]
    create_markdown_artifact("\n".join(lines), key=key, description=title)
    for name, rows in (tables or {}).items():
        if rows:
            create_table_artifact(rows, key=artefact_key(key, name), description=f"{title}: {name}")
