"""The NHS-number feedback file as it comes in: its layout, reading and row validation.

The file's layout is data (``data/sample/feedback_layout.yaml``, ``[feedback] layout``): the
real national layout was not published where we could see it, so columns, encoding, delimiter
and date format are all configurable. :func:`read_feedback` raises :class:`Malformed` (a reason
without any values) for a file that cannot be used as a whole; :func:`validate` marks each row's
problem or why it is set aside. Storing the rows and following them to resolution is
``pipelines.history.feedback``'s work.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from cld_schema import nhs_number_valid
from cld_schema.errors import CldError
from pipelines.history.store import HistoryError
from pipelines.source.intake import decode

MEANINGS = ("la_person_id", "nhs_number_found", "match_basis", "traced_on")
LEFT_SCOPE = "person not among the people checked against (left scope since the submission)"


class FeedbackError(HistoryError):
    """The feedback cannot be taken in (bad layout, already ingested, nothing to check against)."""


@dataclass(frozen=True)
class FeedbackLayout:
    """How the feedback file is laid out (see ``data/sample/feedback_layout.yaml``)."""

    columns: dict[str, str]
    format: str = "csv"
    encodings: tuple[str, ...] = ("utf-8-sig", "cp1252")
    delimiter: str = ","
    date_format: str = "%d/%m/%Y"
    required: tuple[str, ...] = ("la_person_id", "match_basis")
    match_basis_values: tuple[str, ...] = (
        "NAME_DOB_POSTCODE",
        "DOB_POSTCODE",
        "NAME_DOB",
        "NO_MATCH",
    )
    no_match_value: str = "NO_MATCH"
    max_invalid_share: float = 0.05

    @classmethod
    def load(cls, path: Path) -> FeedbackLayout:
        """Read and check a layout file; a mistake names the key to fix."""
        from pipelines.config import ConfigError, read_yaml

        if not Path(path).is_file():
            raise FeedbackError(f"[feedback] layout: no such file {path}")
        try:
            raw = read_yaml(Path(path), "the feedback layout")
        except ConfigError as exc:
            raise FeedbackError(f"feedback layout {exc}") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("columns"), dict):
            raise FeedbackError(f"feedback layout {path}: needs a 'columns' mapping")
        missing = [m for m in MEANINGS if m not in raw["columns"]]
        if missing:
            raise FeedbackError(f"feedback layout {path}: columns lacks {', '.join(missing)}")
        if raw.get("format", "csv") != "csv":
            raise FeedbackError(f"feedback layout {path}: only format: csv is supported")
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise FeedbackError(
                f"feedback layout {path}: unknown key(s) {', '.join(sorted(unknown))}"
            )
        args: dict[str, Any] = dict(raw)
        for key in ("encodings", "required", "match_basis_values"):
            if key in args:
                args[key] = tuple(args[key])
        bad_req = set(args.get("required", ())) - set(MEANINGS)
        if bad_req:
            raise FeedbackError(f"feedback layout {path}: required names unknown {sorted(bad_req)}")
        return cls(**args)


# -- reading -------------------------------------------------------------------------------


class Malformed(CldError):
    """The file as a whole cannot be used (message says why, without any values)."""


def read_feedback(path: Path, layout: FeedbackLayout) -> pl.DataFrame:
    """The file's rows as text: ``line`` (1 = header) and the layout's meanings as columns."""
    from pipelines.textfile import NotText, check_text, sniff, structure_fault

    data = Path(path).read_bytes()
    try:
        sniff(data)
    except NotText as exc:
        raise Malformed(f"the file is {exc}") from None
    text = decode(data, layout.encodings)
    if text is None:
        raise Malformed(f"cannot be decoded as any of {', '.join(layout.encodings)}")
    if not text.strip():
        raise Malformed("the file is empty")
    try:
        check_text(text)
    except NotText as exc:
        raise Malformed(str(exc)) from None
    if layout.delimiter == ",":
        width = len(next(csv.reader(io.StringIO(text.split("\n", 1)[0])), []))
        fault = structure_fault(text, width)
        if fault:
            raise Malformed(f"not a well-formed CSV table: {fault}")
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")), separator=layout.delimiter, infer_schema=False
        )
    except (pl.exceptions.PolarsError, ValueError):
        raise Malformed(
            f"cannot be parsed as delimited text (delimiter {layout.delimiter!r})"
        ) from None
    by_header = {c.strip().lower(): c for c in frame.columns}
    found = {m: by_header.get(h.strip().lower()) for m, h in layout.columns.items()}
    missing = [layout.columns[m] for m in layout.required if found.get(m) is None]
    if missing:
        raise Malformed(f"missing column(s): {', '.join(missing)}")
    if frame.height == 0:
        raise Malformed("the file has a header but no rows")
    return frame.select(
        (pl.int_range(pl.len()) + 2).cast(pl.Int32).alias("line"),
        *[
            (pl.col(found[m]).str.strip_chars() if found[m] else pl.lit(None, pl.String)).alias(m)
            for m in MEANINGS
        ],
    )


def validate(frame: pl.DataFrame, layout: FeedbackLayout, known_ids: pl.Series) -> pl.DataFrame:
    """Add ``problem`` (null when the row is good), ``is_match``, cleaned number and date."""
    basis = pl.col("match_basis").str.to_uppercase()
    nhs = pl.col("nhs_number_found").str.replace_all(r"[\s-]", "")
    is_match = basis != layout.no_match_value.upper()
    traced = pl.col("traced_on").str.to_date(layout.date_format, strict=False)
    allowed = [v.upper() for v in layout.match_basis_values]
    problem = (
        pl.when(pl.col("la_person_id").is_null() | (pl.col("la_person_id") == ""))
        .then(pl.lit("person id missing"))
        .when(basis.is_null() | ~basis.is_in(allowed))
        .then(pl.lit("unknown match basis"))
        .when(is_match & ~nhs_number_valid(nhs))
        .then(pl.lit("invalid NHS number (Modulus 11)"))
        .when(pl.col("traced_on").is_not_null() & traced.is_null())
        .then(pl.lit("traced date not in the layout's format"))
    )
    out_of_scope = (
        pl.when(
            pl.col("la_person_id").is_not_null()
            & (pl.col("la_person_id") != "")
            & ~pl.col("la_person_id").is_in(known_ids.implode())
        )
        .then(pl.lit(LEFT_SCOPE))
        .otherwise(None)
    )
    return frame.with_columns(
        problem.alias("problem"),
        out_of_scope.alias("set_aside"),
        is_match.fill_null(False).alias("is_match"),
        nhs.alias("nhs_number_found"),
        basis.alias("match_basis"),
        traced.alias("traced_on"),
    )


def reason_text(path: Path, summary: str, checked: pl.DataFrame | None) -> str:
    """The quarantine reason: counts and line numbers only, never values."""
    now = dt.datetime.now(dt.UTC)
    lines = [f"File: {path.name}", f"Quarantined: {now:%Y-%m-%d %H:%M} UTC", summary]
    if checked is not None:
        bad = checked.filter(pl.col("problem").is_not_null())
        for (problem,), group in bad.group_by("problem", maintain_order=True):
            nums = group["line"].head(20).to_list()
            more = " ..." if group.height > 20 else ""
            lines.append(f"- {problem}: {group.height} row(s), lines {nums}{more}")
    return "\n".join(lines) + "\n"


