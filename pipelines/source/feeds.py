"""Provider feeds: read the carers' and equipment files, check them against their contracts,
match their people to the case-management records.

A *contract* (``data/sample/contracts/*.yaml``) says which file names it covers, the encodings
to try, the UK date format, and the columns with their type, whether a value is required and
the allowed codes; its ``match`` section names the columns holding the council person id, NHS
number, date of birth and gender.

What happens to a file:

* it breaks its contract as a whole (undecodable, not a table, a column missing or renamed, a
  value of the wrong type in a required column or most values of the wrong type in an optional
  one, no contract for its name) → it is **moved to quarantine**
  (``<quarantine_dir>/<UTC timestamp>/``) with ``<file>.reason.txt`` saying what broke, and the
  run goes on with the other files;
* otherwise it is read; a row with a blank or unknown value in a required column is left out and
  listed in ``row_errors``; a stray bad value in an optional column is blanked and listed there
  too; a row whose contract ``key`` comes again later (a resent file) gives way to the later one.

Files that were read stay where they are: nothing is moved, nothing is lost. Every file seen
ends up in exactly one of ``FeedResult.processed`` and ``FeedResult.quarantined``.

A quarantined file stays missing from every later build until a file of the same name arrives
again: each run lists those still in quarantine (``FeedResult.held``, with the reason and since
when), and a re-sent name marks the older copies ``<file>.resent.txt``.

Matching (vectorised joins against the ``persons`` frame of the extract, ideally its
``person_index``): the council person id first; the NHS number when the id is blank or not a
number. A row whose id is unknown, or with no id and an NHS number that finds nobody (or more
than one person), is *unmatched* and listed for the provider. A matched row whose NHS number,
date of birth or gender disagrees with the case record is kept and listed in ``conflicts``
(``feed_nhs_conflict`` / ``feed_dob_conflict`` / ``feed_gender_conflict``).

Personal data never reaches the logs, the reason files or the unmatched / conflict lists: they
carry file, line, column and what is wrong, never the value.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from cld_schema.errors import CldError
from pipelines.cldfile import csv_error_text
from pipelines.config import ConfigError, read_yaml, validation_text
from pipelines.source.intake import Quarantine, decode
from pipelines.textfile import NotText, check_text, read_rows, sniff, structure_fault

log = logging.getLogger(__name__)

UTF8_BOM = "\ufeff"


class FeedError(CldError):
    """A problem with the contracts themselves (not with a provider's file)."""


class _Breach(Exception):
    """The file breaks its contract as a whole: it goes to quarantine with this reason."""


# --------------------------------------------------------------------------------------------
# Contracts


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    type: Literal["string", "date", "integer", "decimal"] = "string"
    required: bool = False  # the column must be there and every row must have a value
    optional: bool = False  # the column itself may be absent from the file
    allowed: list[str] | None = None


class MatchSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: str | None = None
    nhs_number: str | None = None
    date_of_birth: str | None = None
    gender: str | None = None


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    file_patterns: list[str]
    encodings: list[str] = ["utf-8-sig", "cp1252"]
    date_format: str = "%d/%m/%Y"
    key: str | None = None
    columns: list[ColumnSpec]
    match: MatchSpec = MatchSpec()
    gender_codes: dict[str, str] = {}  # provider's gender code -> council gender_code

    def covers(self, filename: str) -> bool:
        low = filename.lower()
        return any(fnmatch.fnmatch(low, p.lower()) for p in self.file_patterns)


def load_contracts(contracts_dir: Path | str) -> list[Contract]:
    """Every ``*.yaml`` contract in the folder; a malformed one is an error naming the file."""
    folder = Path(contracts_dir)
    if not folder.is_dir():
        raise FeedError(f"feed contracts folder not found: {folder}")
    contracts = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            contract = Contract.model_validate(read_yaml(path, "the feed contract"))
        except ConfigError as exc:
            raise FeedError(str(exc)) from None
        except ValidationError as exc:
            raise FeedError(f"{path}: not a valid feed contract: {validation_text(exc)}") from None
        names = [c.name for c in contract.columns]
        refs = [v for v in contract.match.model_dump().values() if v]
        unknown = [r for r in refs if r not in names]
        if unknown:
            raise FeedError(f"{path}: match names unknown column(s): {', '.join(unknown)}")
        contracts.append(contract)
    if not contracts:
        raise FeedError(f"no feed contracts (*.yaml) in {folder}")
    return contracts


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Quarantined:
    file: str  # the file's name as it arrived
    reason: str
    moved_to: Path | None = None
    since: str | None = None  # when it was quarantined (UTC, ISO), from its reason file


@dataclass
class FeedResult:
    """What the feeds gave: typed frames per contract, and everything that went wrong."""

    frames: dict[str, pl.DataFrame]
    quarantined: list[Quarantined]
    unmatched: pl.DataFrame  # file, line, reason
    conflicts: pl.DataFrame  # file, line, person_id, field, kind
    row_errors: pl.DataFrame  # file, line, column, reason, action
    processed: list[str] = field(default_factory=list)
    # quarantined by an earlier run and not re-sent since: still missing from this build
    held: list[Quarantined] = field(default_factory=list)


UNMATCHED_SCHEMA = {"file": pl.String, "line": pl.Int64, "reason": pl.String}
CONFLICT_SCHEMA = {
    "file": pl.String,
    "line": pl.Int64,
    "person_id": pl.Int64,
    "field": pl.String,
    "kind": pl.String,
}
ROW_ERROR_SCHEMA = {
    "file": pl.String,
    "line": pl.Int64,
    "column": pl.String,
    "reason": pl.String,
    "action": pl.String,
}


# --------------------------------------------------------------------------------------------
# Reading a file into strings


def _decode(raw: bytes, encodings: list[str]) -> str:
    """Try the contract's encodings in order (:func:`pipelines.source.intake.decode`)."""
    text = decode(raw, encodings)
    if text is None:
        raise _Breach(f"the file cannot be decoded as any of {', '.join(encodings)}")
    return text


def _read_csv(path: Path, contract: Contract) -> pl.DataFrame:
    raw = path.read_bytes()
    try:
        sniff(raw)
    except NotText as exc:
        raise _Breach(f"the file is {exc}") from None
    text = _decode(raw, contract.encodings)
    try:
        check_text(text)
    except NotText as exc:
        raise _Breach(str(exc)) from None
    if not text.strip():
        raise _Breach("the file is empty (no header row)")
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    _check_names(header, contract)
    fault = structure_fault(text, len(header))
    if fault:
        raise _Breach(f"the file is not a well-formed CSV table: {fault}")
    try:
        return pl.read_csv(io.BytesIO(text.encode("utf-8")), infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        try:  # a quote inside an unquoted value: polars refuses, a spreadsheet reads it
            return read_rows(text)
        except Exception:
            pass
        raise _Breach(f"the file is not a well-formed CSV table: {csv_error_text(exc)}") from None


def _check_names(header: list[str], contract: Contract) -> None:
    """A column named twice, or two names that differ only in spaces or capitals, make the
    file ambiguous (which one is meant?): the file breaks its contract. Names are repeated
    in the reason only when they are the contract's (a data row is never echoed)."""
    known = {c.name.casefold() for c in contract.columns}
    if not any(n.strip().casefold() in known for n in header):
        return  # no header at all: _check_header says so
    seen: dict[str, str] = {}
    for name in header:
        name = name.removeprefix(UTF8_BOM)
        key = name.strip().casefold()
        if key in seen:
            first = seen[key]
            if key not in known:
                raise _Breach("two columns have the same name")
            if first == name:
                raise _Breach(f"column {name!r} appears twice in the header")
            raise _Breach(
                f"columns {first!r} and {name!r} differ only in spaces or capitals; "
                "rename or remove one"
            )
        seen[key] = name


def _read_xlsx(path: Path, contract: Contract) -> pl.DataFrame:
    try:
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)
        first = next(wb.active.iter_rows(min_row=1, max_row=1, values_only=True), ())
        wb.close()
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise _Breach(f"the workbook cannot be read ({type(exc).__name__})") from None
    _check_names(["" if v is None else str(v) for v in first], contract)
    try:
        return pl.read_excel(path, engine="openpyxl", infer_schema_length=0, drop_empty_rows=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise _Breach(f"the workbook cannot be read ({type(exc).__name__})") from None


def _read_table(path: Path, contract: Contract) -> pl.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame = _read_xlsx(path, contract)
    else:
        frame = _read_csv(path, contract)
    frame = frame.rename({c: c.strip().removeprefix(UTF8_BOM) for c in frame.columns})
    return frame.with_columns(
        pl.col(c).cast(pl.String).str.strip_chars().replace("", None) for c in frame.columns
    )


# --------------------------------------------------------------------------------------------
# Checking against the contract (all vectorised: one expression per column)


def _parsed(col: ColumnSpec, fmt: str, xlsx: bool) -> pl.Expr:
    """The column converted to its contract type (null where the text does not convert)."""
    raw = pl.col(col.name)
    if col.type == "date":
        uk = raw.str.to_date(fmt, strict=False)
        if xlsx:  # a real Excel date cell reads as ISO text
            return pl.coalesce(uk, raw.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
        return uk
    if col.type == "integer":
        return raw.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
    if col.type == "decimal":
        return raw.str.replace_all(r"[£,\s]", "").cast(pl.Float64, strict=False)
    return raw


def _check_header(frame: pl.DataFrame, contract: Contract) -> None:
    missing = [c.name for c in contract.columns if not c.optional and c.name not in frame.columns]
    if missing:
        names = {x.name for x in contract.columns}
        extra = [c for c in frame.columns if c not in names]
        msg = "missing column(s): " + ", ".join(repr(m) for m in missing)
        if not names & set(frame.columns):
            # No contract column at all: the first row is most likely data (header missing);
            # its texts are not repeated, they can be personal data.
            msg += "; the first row holds none of the contract's columns (is the header missing?)"
        elif extra:
            msg += "; columns not in the contract: " + ", ".join(repr(e) for e in extra)
        raise _Breach(msg)


def _check_types(frame: pl.DataFrame, contract: Contract, xlsx: bool) -> pl.DataFrame:
    """Add ``<col>__ok`` flags and stop at a type failure that breaks the whole file.

    Breaks the file: any value of the wrong type in a required date/number column, and a
    *systematic* failure in an optional one (at least 2 and more than half of its filled values,
    e.g. a provider switching to US or ISO dates). A stray bad value in an optional column is
    only blanked and listed (``row_errors``).
    """
    present = [c for c in contract.columns if c.name in frame.columns]
    flags = []
    for c in present:
        ok = pl.col(c.name).is_null() | _parsed(c, contract.date_format, xlsx).is_not_null()
        if c.allowed is not None:
            ok = ok & (pl.col(c.name).is_null() | pl.col(c.name).is_in(c.allowed))
        flags.append(ok.alias(f"{c.name}__ok"))
        if c.required:
            flags.append(pl.col(c.name).is_not_null().alias(f"{c.name}__present"))
    checked = frame.with_columns(flags)
    for c in present:
        if c.type == "string":
            continue
        bad = checked.filter(~pl.col(f"{c.name}__ok"))
        filled = checked.height - checked[c.name].null_count()
        systematic = bad.height >= 2 and bad.height * 2 > filled
        if bad.height and (c.required or systematic):
            lines = ", ".join(str(n) for n in bad["_line"].head(5).to_list())
            kind = "required" if c.required else "optional"
            raise _Breach(
                f"column {c.name!r} ({kind}) is not {_type_text(c, contract.date_format)} "
                f"on {bad.height} of {filled} filled row(s), first at line(s) {lines}"
            )
    return checked


def _type_text(col: ColumnSpec, fmt: str) -> str:
    """How a reason file names the expected type, e.g. "a date as dd/mm/yyyy"."""
    if col.type == "date":
        return "a date as " + fmt.replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy")
    return {"integer": "a whole number", "decimal": "a number"}.get(col.type, "text")


def _row_errors(checked: pl.DataFrame, contract: Contract, name: str) -> pl.DataFrame:
    parts = []
    for c in contract.columns:
        if c.name not in checked.columns:
            continue
        if c.required:
            parts.append(
                checked.filter(~pl.col(f"{c.name}__present")).select(
                    pl.col("_line").alias("line"),
                    pl.lit(c.name).alias("column"),
                    pl.lit("required value is blank").alias("reason"),
                    pl.lit("row left out").alias("action"),
                )
            )
        reason = (
            "value not in the allowed list"
            if c.allowed is not None
            else f"value is not {_type_text(c, contract.date_format)}"
        )
        parts.append(
            checked.filter(~pl.col(f"{c.name}__ok")).select(
                pl.col("_line").alias("line"),
                pl.lit(c.name).alias("column"),
                pl.lit(reason).alias("reason"),
                pl.lit("row left out" if c.required else "value blanked").alias("action"),
            )
        )
    if not parts:
        return pl.DataFrame(schema=ROW_ERROR_SCHEMA)
    out = pl.concat(parts).with_columns(pl.lit(name).alias("file"))
    return out.select(ROW_ERROR_SCHEMA.keys()).cast(ROW_ERROR_SCHEMA).sort("line", "column")


_DTYPES = {"string": pl.String, "date": pl.Date, "integer": pl.Int64, "decimal": pl.Float64}
EXTRA_COLUMNS = {
    "_file": pl.String,
    "_line": pl.Int64,
    "_person_id": pl.Int64,
    "_matched_by": pl.String,
}


def empty_frame(contract: Contract) -> pl.DataFrame:
    """The frame of a feed kind when no file of it arrived (same columns and types)."""
    schema = {c.name: _DTYPES[c.type] for c in contract.columns}
    return pl.DataFrame(schema={**schema, **EXTRA_COLUMNS})


def _typed(checked: pl.DataFrame, contract: Contract, xlsx: bool) -> pl.DataFrame:
    """Rows whose required values are all good, each column in its contract type."""
    keep = pl.lit(True)
    for c in contract.columns:
        if c.required and c.name in checked.columns:
            keep = keep & pl.col(f"{c.name}__present") & pl.col(f"{c.name}__ok")
    exprs = []
    for c in contract.columns:
        if c.name in checked.columns:
            value = _parsed(c, contract.date_format, xlsx)
            exprs.append(pl.when(pl.col(f"{c.name}__ok")).then(value).otherwise(None).alias(c.name))
        else:  # an optional column the file does not have
            exprs.append(pl.lit(None, dtype=_DTYPES[c.type]).alias(c.name))
    return checked.filter(keep).select(pl.col("_line"), *exprs)


# --------------------------------------------------------------------------------------------
# Matching people


def _persons_index(persons: pl.DataFrame) -> pl.DataFrame:
    need = {"person_id", "nhs_number", "date_of_birth", "gender_code"}
    missing = need - set(persons.columns)
    if missing:
        raise FeedError(f"the persons frame lacks column(s): {', '.join(sorted(missing))}")
    return persons.select(
        pl.col("person_id").cast(pl.Int64),
        pl.col("nhs_number").cast(pl.String).str.replace_all(r"[\s-]", ""),
        pl.col("date_of_birth").cast(pl.Date),
        pl.col("gender_code").cast(pl.String),
    ).unique("person_id", keep="first")


def _match(
    typed: pl.DataFrame, contract: Contract, name: str, persons: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(matched rows with ``_person_id``, unmatched list, conflicts list)."""
    m = contract.match
    null_s, null_d = pl.lit(None, dtype=pl.String), pl.lit(None, dtype=pl.Date)
    keys = typed.with_columns(
        (pl.col(m.person_id).str.replace(r"\.0+$", "") if m.person_id else null_s)
        .cast(pl.Int64, strict=False)
        .alias("__pid"),
        (pl.col(m.nhs_number).str.replace_all(r"[\s-]", "") if m.nhs_number else null_s).alias(
            "__nhs"
        ),
        (pl.col(m.date_of_birth) if m.date_of_birth else null_d).alias("__dob"),
        (
            pl.col(m.gender).replace_strict(contract.gender_codes, default=None)
            if m.gender and contract.gender_codes
            else null_s
        ).alias("__gender"),
    )
    by_nhs = (
        persons.filter(pl.col("nhs_number").is_not_null())
        .group_by("nhs_number")
        .agg(pl.col("person_id").first().alias("__nhs_pid"), pl.len().alias("__nhs_n"))
    )
    known = persons.select(pl.col("person_id").alias("__pid"), pl.lit(True).alias("__known"))
    j = keys.join(known, on="__pid", how="left").join(
        by_nhs, left_on="__nhs", right_on="nhs_number", how="left"
    )
    nhs_unique = pl.col("__nhs_n") == 1
    j = j.with_columns(
        pl.when(pl.col("__known"))
        .then(pl.col("__pid"))
        .when(pl.col("__pid").is_null() & nhs_unique)
        .then(pl.col("__nhs_pid"))
        .alias("_person_id"),
        pl.when(pl.col("__known"))
        .then(pl.lit("person_id"))
        .when(pl.col("__pid").is_null() & nhs_unique)
        .then(pl.lit("nhs_number"))
        .alias("_matched_by"),
        pl.when(pl.col("__pid").is_not_null() & pl.col("__known").is_null())
        .then(pl.lit("council person id not found on the case system"))
        .when(pl.col("__nhs").is_null())
        .then(pl.lit("no council person id and no NHS number"))
        .when(pl.col("__nhs_n") > 1)
        .then(pl.lit("no council person id; NHS number belongs to more than one person"))
        .otherwise(pl.lit("no council person id; NHS number not found on the case system"))
        .alias("__why"),
    )
    unmatched = j.filter(pl.col("_person_id").is_null()).select(
        pl.lit(name).alias("file"), pl.col("_line").alias("line"), pl.col("__why").alias("reason")
    )
    matched = j.filter(pl.col("_person_id").is_not_null()).join(
        persons.rename({"person_id": "_person_id"}), on="_person_id", how="left"
    )
    checks = {
        "nhs_number": ("__nhs", "nhs_number", "feed_nhs_conflict"),
        "date_of_birth": ("__dob", "date_of_birth", "feed_dob_conflict"),
        "gender": ("__gender", "gender_code", "feed_gender_conflict"),
    }
    parts = [
        matched.filter(
            pl.col(feed).is_not_null() & pl.col(case).is_not_null() & (pl.col(feed) != pl.col(case))
        ).select(
            pl.lit(name).alias("file"),
            pl.col("_line").alias("line"),
            pl.col("_person_id").alias("person_id"),
            pl.lit(fld).alias("field"),
            pl.lit(kind).alias("kind"),
        )
        for fld, (feed, case, kind) in checks.items()
    ]
    conflicts = pl.concat(parts).cast(CONFLICT_SCHEMA).sort("line", "field")
    out = matched.select(
        *[c.name for c in contract.columns],
        pl.lit(name).alias("_file"),
        "_line",
        "_person_id",
        "_matched_by",
    )
    return out, unmatched.cast(UNMATCHED_SCHEMA), conflicts


# --------------------------------------------------------------------------------------------
# Quarantine


class _Quarantine:
    """The run's quarantine (:class:`pipelines.source.intake.Quarantine`) with the feeds' note."""

    def __init__(self, root: Path) -> None:
        self.intake = Quarantine(root)

    @property
    def folder(self) -> Path | None:
        return self.intake.folder

    def put(self, path: Path, reason: str, contract: str | None) -> Quarantined:
        target, _ = self.intake.put(
            path,
            f"File: {path.name}\n"
            f"Contract: {contract or '(none)'}\n"
            f"Quarantined at: {datetime.now(UTC).isoformat(timespec='seconds')}\n"
            f"Reason: {reason}\n\n"
            "The file was not used. Correct it (or ask the provider for a corrected file) and\n"
            "put it back in the feeds folder for the next run.\n",
        )
        log.warning("feed file %s quarantined: %s", path.name, reason)
        return Quarantined(
            path.name, reason, target, since=datetime.now(UTC).isoformat(timespec="seconds")
        )


RESENT_SUFFIX = ".resent.txt"


def _reason_fields(note: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        text = note.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return out
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in ("Contract", "Quarantined at", "Reason"):
            out[key] = value.strip()
    return out


def held_in_quarantine(
    quarantine_dir: Path, arrived: set[str], current: Path | None = None
) -> list[Quarantined]:
    """Feed files an earlier run quarantined that no file of the same name has replaced since
    (the newest copy of each name), oldest first. A name in ``arrived`` (in the feeds folder
    this run) was re-sent: its older copies are marked re-sent (``<file>.resent.txt``) so they
    are not reported again."""
    if not quarantine_dir.is_dir():
        return []
    newest: dict[str, Quarantined] = {}
    for folder in sorted(p for p in quarantine_dir.iterdir() if p.is_dir()):
        if current is not None and folder == current:
            continue
        for note in sorted(folder.glob("*.reason.txt")):
            name = note.name.removesuffix(".reason.txt")
            kept = folder / name
            if not kept.exists() or (folder / f"{name}{RESENT_SUFFIX}").exists():
                continue
            if "Contract" not in _reason_fields(note):  # a feedback file shares the root
                continue
            if name in arrived:
                (folder / f"{name}{RESENT_SUFFIX}").write_text(
                    f"A file named {name} arrived in the feeds folder again on "
                    f"{datetime.now(UTC).isoformat(timespec='seconds')}; this copy is no "
                    "longer reported as missing from the build.\n",
                    encoding="utf-8",
                )
                continue
            facts = _reason_fields(note)
            newest[name] = Quarantined(
                name, facts.get("Reason", "(reason file unreadable)"), kept,
                since=facts.get("Quarantined at"),
            )  # fmt: skip
    return sorted(newest.values(), key=lambda q: (q.since or "", q.file))


# --------------------------------------------------------------------------------------------
# The stage


def _prepare_one(path: Path, contract: Contract) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One file read and checked against its contract: (typed rows, row errors). Raises
    :class:`_Breach` when the file breaks its contract as a whole. No people needed."""
    xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    frame = _read_table(path, contract)
    _check_header(frame, contract)
    # drop wholly blank rows (trailing rows of a spreadsheet); line 1 is the header
    frame = frame.with_row_index("_line", offset=2).with_columns(pl.col("_line").cast(pl.Int64))
    frame = frame.filter(~pl.all_horizontal(pl.exclude("_line").is_null()))
    if frame.height == 0:
        raise _Breach("the file has a header but no data rows")
    checked = _check_types(frame, contract, xlsx)
    errors = _row_errors(checked, contract, path.name)
    return _typed(checked, contract, xlsx), errors


def _supersede(frame: pl.DataFrame, contract: Contract) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keep the last row of each contract key (files in name order, so a resend sorts after the
    original); the rows it replaces are listed, not silently dropped."""
    if not contract.key or frame.height == 0:
        return frame, pl.DataFrame(schema=ROW_ERROR_SCHEMA)
    last = pl.col(contract.key).is_last_distinct()
    dropped = frame.filter(~last).select(
        pl.col("_file").alias("file"),
        pl.col("_line").alias("line"),
        pl.lit(contract.key).alias("column"),
        pl.lit("the same key comes again in a later row or file; the later one is used").alias(
            "reason"
        ),
        pl.lit("row left out").alias("action"),
    )
    return frame.filter(last), dropped.cast(ROW_ERROR_SCHEMA)


@dataclass
class _File:
    """One file of the feeds folder as read: its contract, and either its typed rows and row
    errors or why it breaks its contract (quarantined when the feeds are matched)."""

    path: Path
    contract: Contract | None
    typed: pl.DataFrame | None = None
    errors: pl.DataFrame | None = None
    breach: str | None = None


@dataclass
class FeedFiles:
    """The feeds folder read and checked, before matching (:func:`read_feed_files`):
    nothing moved, nothing matched yet."""

    contracts: list[Contract]
    files: list[_File]


def read_feed_files(feeds_dir: Path | str, contracts_dir: Path | str) -> FeedFiles:
    """Read and check every provider file in ``feeds_dir`` against its contract. Needs no
    people and changes nothing on disk, so the build runs it while the extract reads the
    database; :func:`match_feeds` then matches the people and quarantines what broke."""
    contracts = load_contracts(contracts_dir)
    folder = Path(feeds_dir)
    if not folder.is_dir():
        raise FeedError(f"feeds folder not found: {folder}")
    files = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        contract = next((c for c in contracts if c.covers(path.name)), None)
        one = _File(path, contract)
        try:
            if contract is None:
                raise _Breach("no feed contract covers this file name")
            one.typed, one.errors = _prepare_one(path, contract)
        except _Breach as breach:
            one.breach = str(breach)
        files.append(one)
    return FeedFiles(contracts, files)


def match_feeds(read: FeedFiles, quarantine_dir: Path | str, persons: pl.DataFrame,
                move: bool = True) -> FeedResult:
    """The files :func:`read_feed_files` read, matched to ``persons``; those that broke their
    contract are quarantined now, in the files' order (see the module docstring). With
    ``move=False`` (a dry run, the CQC pack: nothing of the run is kept) they are left in the
    feeds folder, not used, and listed all the same (``moved_to`` None)."""
    contracts = read.contracts
    index = _persons_index(persons)
    quarantine = _Quarantine(Path(quarantine_dir))
    per_kind: dict[str, list[pl.DataFrame]] = {c.name: [] for c in contracts}
    unmatched, conflicts, errors = [], [], []
    quarantined: list[Quarantined] = []
    processed: list[str] = []
    for one in read.files:
        path, contract = one.path, one.contract
        if one.breach is not None or contract is None or one.typed is None:
            if move:
                quarantined.append(
                    quarantine.put(path, one.breach or "", contract.name if contract else None)
                )
            else:
                log.warning("feed file %s not used (left in the feeds folder): %s", path.name,
                            one.breach or "")
                quarantined.append(Quarantined(path.name, one.breach or ""))
            continue
        matched, unm, conf = _match(one.typed, contract, path.name, index)
        errs = one.errors if one.errors is not None else pl.DataFrame(schema=ROW_ERROR_SCHEMA)
        per_kind[contract.name].append(matched)
        unmatched.append(unm)
        conflicts.append(conf)
        errors.append(errs)
        processed.append(path.name)
        log.info(
            "feed file %s: %d rows matched, %d unmatched, %d conflicts, %d row errors",
            path.name,
            matched.height,
            unm.height,
            conf.height,
            errs.height,
        )
    names = {one.path.name for one in read.files}
    held = held_in_quarantine(Path(quarantine_dir), names, quarantine.folder)
    for q in held:
        log.warning("feed file %s still in quarantine since %s (not re-sent)", q.file, q.since)
    frames = {}
    for c in contracts:
        frames[c.name], superseded = _supersede(
            pl.concat([empty_frame(c), *per_kind[c.name]], how="vertical"), c
        )
        errors.append(superseded)
    return FeedResult(
        frames=frames,
        quarantined=quarantined,
        unmatched=pl.concat([pl.DataFrame(schema=UNMATCHED_SCHEMA), *unmatched]),
        conflicts=pl.concat([pl.DataFrame(schema=CONFLICT_SCHEMA), *conflicts]),
        row_errors=pl.concat([pl.DataFrame(schema=ROW_ERROR_SCHEMA), *errors]),
        processed=processed,
        held=held,
    )


def read_feeds(
    feeds_dir: Path | str,
    contracts_dir: Path | str,
    quarantine_dir: Path | str,
    persons: pl.DataFrame,
) -> FeedResult:
    """Read every provider file in ``feeds_dir`` (see the module docstring):
    :func:`read_feed_files` then :func:`match_feeds`."""
    _persons_index(persons)  # a persons frame without the matching columns: said first
    return match_feeds(read_feed_files(feeds_dir, contracts_dir), quarantine_dir, persons)
