"""``cld init``: a council's own folder, made from the project's sample configuration.

The folder holds everything a council edits, with paths relative to its ``cld.toml``:

* ``cld.toml``: the sample's, with the council's CASSR code and name, every path pointing
  inside the folder, and no ``[runs] reference_date`` (a live database: runs use the real
  date);
* ``sql/``: the extract SQL, to adapt to the council's views;
* ``mappings/`` and ``contracts/``: the sample's local-code tables and provider file layouts,
  to replace with the council's own (the build lists every local code it cannot map);
* ``thresholds.yaml`` and ``feedback_layout.yaml``: the national defaults, to tune;
* ``team_directory.csv``: the header only (team_id, team_name, email): the council's teams
  and their managers' addresses go here;
* ``feeds/``: where the providers' monthly files are put; ``out/`` is made by the first run.

Nothing existing is ever overwritten: if any of these is already in the folder, nothing is
written and the error says which.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.config import DEFAULT_CONFIG_NAME, PROJECT_ROOT, ConfigError, CouncilConfig

SAMPLE_DATA = PROJECT_ROOT / "data" / "sample"
TEMPLATE = PROJECT_ROOT / DEFAULT_CONFIG_NAME

# What is copied into the folder: name there -> where it comes from (team_directory.csv
# and feeds/ are made here).
COPIED: dict[str, Path] = {
    "sql": PROJECT_ROOT / "sql",
    "mappings": SAMPLE_DATA / "mappings",
    "contracts": SAMPLE_DATA / "contracts",
    "thresholds.yaml": SAMPLE_DATA / "thresholds.yaml",
    "feedback_layout.yaml": SAMPLE_DATA / "feedback_layout.yaml",
}
DIRECTORY_HEADER = "team_id,team_name,email\n"

# (key as written in the sample's cld.toml, its value in the council's): each must match
# exactly one line of the template (a test keeps the template and this list in step).
PATHS = {
    "mappings_dir": "mappings",
    "sql_dir": "sql",
    "feeds_dir": "feeds",
    "contracts_dir": "contracts",
    "thresholds": "thresholds.yaml",
    "directory": "team_directory.csv",
    "layout": "feedback_layout.yaml",
}


class InitError(ConfigError):
    """The folder cannot be made (something already there, a bad code): nothing written."""


@dataclass
class InitOutcome:
    folder: Path
    config: Path
    written: list[str] = field(default_factory=list)  # names inside the folder


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def council_config_text(la_code: str, name: str) -> str:
    """The sample's ``cld.toml`` made the council's (see module doc)."""
    text = TEMPLATE.read_text(encoding="utf-8")

    def put(key: str, value: str, comment: str | None = None) -> None:
        nonlocal text
        pattern = re.compile(rf'^({re.escape(key)}\s*=\s*)"[^"\n]*"([^\n]*)$', re.MULTILINE)
        if len(pattern.findall(text)) != 1:
            raise RuntimeError(f"{TEMPLATE}: expected one line setting {key}")
        text = pattern.sub(lambda m: m.group(1) + _toml_string(value)
                           + (m.group(2) if comment is None else f"  # {comment}"), text)

    put("la_code", la_code, "the council's CASSR code, sent in LA_Code")
    put("name", name, "as shown on the reports")
    for key, value in PATHS.items():
        put(key, value)
    lines = []
    for line in text.splitlines():
        if re.match(r"^reference_date\s*=", line):
            lines.append("# " + line + "   (a live database: leave it unset, for the real date)")
        else:
            lines.append(line)
    header = f"# Made by `cld init` for {name} ({la_code}): edit it and the files beside it.\n"
    text = "\n".join(lines) + "\n"
    # the sample's notes that do not hold for a council's folder
    sample_note = r"(?m)^# The day that stands in for today.*?\n(?=(# )?reference_date)"
    text = re.sub(sample_note, "# The day that stands in for today when a run picks its "
                  "period; unset: the real date.\n", text, flags=re.DOTALL)
    return header + text


def init_council(folder: Path, la_code: str, name: str) -> InitOutcome:
    """Make the council's folder (module doc); raises :class:`InitError`, writing nothing,
    when the code is not a CASSR code or anything it would write is already there."""
    try:
        CouncilConfig(la_code=la_code, name=name)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise InitError(f"--la-code {la_code!r}: must be the council's 1-3 digit CASSR code, "
                        "e.g. '318'") from exc
    name = " ".join(name.split())  # one line: it goes into a TOML string and a comment
    if not name:
        raise InitError("--name: give the council's name, as the reports should show it")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InitError(f"{folder} is a file, not a folder")
    names = [DEFAULT_CONFIG_NAME, *COPIED, "team_directory.csv", "feeds"]
    there = [n for n in names if (folder / n).exists()]
    if there:
        raise InitError(
            f"{folder} already holds {', '.join(there)}: nothing written (cld init never "
            "overwrites a council's files; choose an empty or new folder)"
        )
    text = council_config_text(la_code, name)
    made_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    out = InitOutcome(folder=folder.resolve(), config=(folder / DEFAULT_CONFIG_NAME).resolve())
    try:
        for target, source in COPIED.items():
            if source.is_dir():
                shutil.copytree(source, folder / target,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, folder / target)
            out.written.append(target + ("/" if source.is_dir() else ""))
        (folder / "team_directory.csv").write_text(DIRECTORY_HEADER, encoding="utf-8")
        out.written.append("team_directory.csv")
        (folder / "feeds").mkdir()
        out.written.append("feeds/")
        out.config.write_text(text, encoding="utf-8")  # last: with cld.toml it is complete
    except BaseException:  # a full disk, Ctrl-C: take back what was written, then say so
        for written in out.written:
            target = folder / written.rstrip("/")
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        if made_folder:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    out.written.insert(0, DEFAULT_CONFIG_NAME)
    return out
