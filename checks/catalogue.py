"""The whole catalogue as one table (for ``cld rules`` and the docs): field checks generated
from the spec, file rules from ``rules/file.yaml``, logical rules from the
``rules/<pattern>.yaml`` files, quantitative expectations from ``rules/quantitative.yaml``."""

from __future__ import annotations

import polars as pl

COLUMNS = ["rule_id", "category", "severity", "module", "fields", "message", "how_to_fix"]


def catalogue_frame(release: str | None = None) -> pl.DataFrame:
    from checks.contract import field_checks
    from checks.quantitative import texts
    from checks.rules import catalogue
    from checks.rules.fields import (
        field_severity,
        finding_message,
        how_to_fix,
        mandatory_how_to_fix,
        mandatory_message,
    )
    from checks.rules.file import texts as file_texts
    from cld_schema import LATEST_RELEASE, load_spec

    spec = load_spec(release or LATEST_RELEASE)  # the latest release unless one is named
    sev = field_severity()
    rows = []
    for fc in field_checks(spec):
        f = spec.field(fc.field)
        rows.append(
            [
                fc.rule_id,
                "field",
                sev.get(fc.rule_id, "error"),
                f.module,
                f.name,
                finding_message(f.label, fc.message),
                how_to_fix(f.label),
            ]
        )
    for f in spec.fields:
        rid = f"FLD_{f.name}_mandatory"
        rows.append(
            [
                rid,
                "field",
                sev.get(rid, "error"),
                f.module,
                f.name,
                mandatory_message(f.label),
                mandatory_how_to_fix(f.label),
            ]
        )
    for t in file_texts().values():  # the texts' {placeholders} are filled from the file
        rows.append(
            [t["id"], "field", t["severity"], t["module"], "", t["message"], t["how_to_fix"]]
        )
    for m in catalogue():
        fields = ", ".join(m.fields) if m.fields else ", ".join(m.each_field or ["every field"])
        rows.append([m.id, "logical", m.severity, m.module, fields, m.message, m.how_to_fix])
    for t in texts().values():
        rows.append(
            [t["id"], "quantitative", t["severity"], t["module"], "", t["message"], t["how_to_fix"]]
        )
    return pl.DataFrame(rows, schema=COLUMNS, orient="row")
