"""Readable renderings of the spec: a diff between releases, Markdown and Excel exports.

An analyst checks these against the official workbook; uncertain entries are marked so they
know what to verify first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cld_schema.spec import Spec


@dataclass
class SpecDiff:
    old: str
    new: str
    fields_removed: list[str] = field(default_factory=list)
    fields_added: list[str] = field(default_factory=list)
    fields_changed: dict[str, list[str]] = field(default_factory=dict)
    # per list: (key, old text, new text); old or new None = value only in one release
    values: dict[str, list[tuple[str, str | None, str | None]]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"{self.old} -> {self.new}"]
        out += [f"  field removed: {n}" for n in self.fields_removed]
        out += [f"  field added:   {n}" for n in self.fields_added]
        for n, what in self.fields_changed.items():
            out.append(f"  field changed: {n} ({', '.join(what)})")
        for name, rows in self.values.items():
            out.append(f"  list {name}:")
            for key, a, b in rows:
                if a is None:
                    out.append(f"    + {key}: {b!r}")
                elif b is None:
                    out.append(f"    - {key}: {a!r}")
                else:
                    out.append(f"    ~ {key}: {a!r} -> {b!r}")
        return out


def diff(old: Spec, new: Spec) -> SpecDiff:
    d = SpecDiff(old.release, new.release)
    old_names, new_names = old.field_names, new.field_names
    d.fields_removed = [n for n in old_names if n not in new_names]
    d.fields_added = [n for n in new_names if n not in old_names]
    for n in new_names:
        if n not in old_names:
            continue
        a, b = old.field(n), new.field(n)
        changed = [
            attr
            for attr in ("label", "type", "max_length", "list_name", "applies", "mandatory")
            if getattr(a, attr) != getattr(b, attr)
        ]
        if changed:
            d.fields_changed[n] = changed
    lists = {f.list_name for f in new.fields if f.list_name}
    for name in sorted(lists):
        rows = []
        for v in new.list(name).values:
            a, b = v.text(old.release), v.text(new.release)
            if a != b:
                rows.append((v.key, a, b))
        if rows:
            d.values[name] = rows
    return d


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(spec: Spec) -> str:
    lines = [
        f"# {spec.title}",
        "",
        f"Dates in the file: `{spec.date_format}`; encoding {spec.encoding}, no BOM. "
        "⚠ = spelling, presence or length not confirmed by a public source: check it against "
        "the official specification.",
        "",
        "## Fields in file order",
        "",
        "| # | field | header (label style) | type | max | list | module | applies when | "
        "mandatory when |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i, f in enumerate(spec.fields, 1):
        mark = " ⚠" if f.uncertain else ""
        pid = " (PID)" if f.pid else ""
        lines.append(
            f"| {i} | `{f.name}`{mark}{pid} | {_esc(f.label)} | {f.type} | {f.max_length or ''} | "
            f"{f.list_name or ''} | {f.module} | {_esc(spec.describe(f.applies))} | "
            f"{_esc(spec.describe(f.mandatory))} |"
        )
    lines += ["", "## Defined lists", ""]
    used = []
    for f in spec.fields:
        if f.list_name and f.list_name not in used:
            used.append(f.list_name)
    for name in used:
        dl = spec.list(name)
        users = ", ".join(f"`{f.name}`" for f in spec.fields if f.list_name == name)
        lines += [f"### {name}", "", f"Used by {users}." + (f" {dl.note}" if dl.note else ""), ""]
        lines += ["| key | value |", "|---|---|"]
        for v in dl.in_release(spec.release):
            flags = []
            if dl.is_uncertain(v, spec.release):
                flags.append("⚠")
            if v.do_not_use:
                flags.append("(do not use)")
            lines.append(f"| {v.key} | {_esc(v.text(spec.release) or '')} {' '.join(flags)} |")
        lines.append("")
    return "\n".join(lines)


def to_xlsx(spec: Spec, path: Path) -> Path:
    """Fields, Lists and Derived sheets; text written as strings (never formulas)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7"})

    def sheet(name: str, header: list[str], rows: list[list[object]], widths: list[int]) -> None:
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, header, bold)
        for r, row in enumerate(rows, 1):
            for c, value in enumerate(row):
                ws.write_string(r, c, "" if value is None else str(value))
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), len(header) - 1)

    sheet(
        "Fields",
        ["#", "field", "label header", "type", "max length", "list", "module", "personal data",
         "uncertain", "applies when", "mandatory when", "description", "format"],
        [
            [i, f.name, f.label, f.type, f.max_length, f.list_name, f.module,
             "yes" if f.pid else "", "yes" if f.uncertain else "", spec.describe(f.applies),
             spec.describe(f.mandatory), f.description, f.format]
            for i, f in enumerate(spec.fields, 1)
        ],
        [4, 30, 34, 10, 8, 26, 28, 8, 8, 50, 60, 60, 40],
    )
    rows = []
    for name in sorted({f.list_name for f in spec.fields if f.list_name}):
        dl = spec.list(name)
        for v in dl.in_release(spec.release):
            rows.append([name, v.key, v.text(spec.release),
                         "yes" if dl.is_uncertain(v, spec.release) else "",
                         "yes" if v.do_not_use else "", dl.note])
    sheet("Lists", ["list", "key", "value", "uncertain", "do not use", "note"], rows,
          [26, 36, 60, 9, 9, 80])
    sheet("Derived (not submitted)", ["field", "type", "description"],
          [[d.name, d.type, d.description] for d in spec.derived], [36, 20, 80])
    wb.close()
    return path
