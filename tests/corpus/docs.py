"""Writes docs/inputs.md from the corpus table (``python -m tests.corpus.docs``); the test
suite checks the file equals what this makes, so the list cannot drift from the cases."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.corpus.cases import CASES

DOC = Path(__file__).resolve().parents[2] / "docs" / "inputs.md"

INTRO = """# Malformed inputs and faults: what each gets

Generated from the test corpus (`tests/corpus/cases.py`) by `python -m tests.corpus.docs`; the
suite fails when this page and the corpus differ. Every case is run by
`tests/corpus/test_corpus.py` and, besides what its row says, must show:

- no traceback, whatever the input;
- an error is **one line** (`error: …`, exit code 2) and is the last line printed; retry
  messages may come before it while a database is unreachable;
- no personal value planted in the input (NHS numbers, dates of birth, postcodes, names)
  appears in anything printed, in a quarantine reason or a reason file;
- a quarantined feed file is moved whole (the copy is byte for byte the file) with a
  `<file>.reason.txt` beside it, and the build goes on with the other files (a dry run
  leaves it in the feeds folder, unused); a refused feedback file is copied, and the file
  the user named is left where it is;
- nothing lost or half-written: a refused run leaves history as it was, and the output folder
  holds, byte for byte, the file history records (no unrecorded build, nothing left beside it).

"""


def render() -> str:
    out = [INTRO]
    areas: dict[str, list] = {}
    for c in CASES:
        areas.setdefault(c.area, []).append(c)
    out.append(f"{len(CASES)} cases in {len(areas)} groups.\n")
    for area, cases in areas.items():
        out.append(f"\n## {area[0].upper() + area[1:]} ({len(cases)})\n\n")
        out.append("| input | what it gets | case |\n|---|---|---|\n")
        for c in cases:
            gets = c.expect.describe()
            if c.expect.kind in ("error", "quarantined") and c.expect.pattern:
                gets += f" (says '{_plain(c.expect.pattern)}')"
            if c.root:
                gets += "; runs as root (a tiny tmpfs)"
            text = c.input.replace("|", "\\|")
            out.append(f"| {text} | {gets.replace('|', chr(92) + '|')} | `{c.id}` |\n")
    return "".join(out)


def _plain(pattern: str) -> str:
    """A readable form of the pattern the message must match."""
    text = pattern.replace("\\", "").replace(".*", " … ").replace("|", "' or '")
    text = text.replace("(", "").replace(")", "").replace("d+", "N").replace("S*", "")
    return text.replace("`", "'")


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC} ({len(CASES)} cases)", file=sys.stderr)
