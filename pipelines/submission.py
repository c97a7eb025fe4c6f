"""The submission file (rules.md section 6): what the Data Landing Portal accepts.

* Header row exactly as the spec gives for the release and header style; the spec's columns in
  its order, nothing else (internal ``_`` columns are never written).
* Windows-1252, no BOM. A value that cannot be encoded is an error naming the row and field:
  it is never silently replaced with '?'.
* An empty value is an empty cell, never the text ``NULL``.
* No value may begin with ``=``, ``+``, ``-`` or ``@`` (the portal's CSV-injection guard) except a
  negative number. The transform should never produce one, so it is a hard error naming the
  field and row rather than something to "fix" quietly.
* Optional gzip (``.csv.gz``).
* Atomic: written to a temporary file in the same folder, flushed and fsync'd, then moved over
  the target with ``os.replace``; any failure removes the temporary file and leaves a previous
  file untouched.
"""

from __future__ import annotations

import contextlib
import gzip as gzip_mod
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Literal

import polars as pl

from cld_schema.errors import CldError

HeaderStyle = Literal["label", "database"]
CHUNK_ROWS = 50_000
LINE_END = "\r\n"  # the file is for Windows tools (portal, Excel)
_FORMULA_START = r"^[=+\-@]"
_NEGATIVE_NUMBER = r"^-\d+(\.\d+)?$"


class SubmissionError(CldError, ValueError):
    """The frame cannot be written as a valid submission; the message names row and field."""


def _unencodable_class(encoding: str) -> str:
    """A regex character class of every character the encoding cannot write."""
    chars = []
    for b in range(256):
        try:
            chars.append(bytes([b]).decode(encoding))
        except UnicodeDecodeError:
            continue
    escaped = "".join(f"\\x{{{ord(c):x}}}" for c in chars)
    return f"[^{escaped}]"


def _first_bad(frame: pl.DataFrame, fields: list[str], condition) -> tuple[str, int] | None:
    """(field, row) of the first value failing ``condition`` (an expr builder), else None."""
    checks = frame.select(
        [condition(pl.col(f)).fill_null(False).arg_true().first().alias(f) for f in fields]
    ).row(0)
    hits = [(f, r) for f, r in zip(fields, checks, strict=True) if r is not None]
    return min(hits, key=lambda h: h[1]) if hits else None


def _row_label(frame: pl.DataFrame, index: int) -> str:
    if "_row" in frame.columns:
        return f"row {frame.item(index, '_row')}"
    return f"row {index}"


def validate(frame: pl.DataFrame, spec: Any) -> pl.DataFrame:
    """The spec's columns as String with empty text as null; raise on anything unwritable."""
    fields = spec.field_names
    missing = [f for f in fields if f not in frame.columns]
    if missing:
        raise SubmissionError(f"the frame lacks spec field(s): {', '.join(missing)}")
    data = frame.select(
        [pl.col(f).cast(pl.String).replace("", None) for f in fields]
        + ([pl.col("_row")] if "_row" in frame.columns else [])
    )
    encoding = getattr(spec, "encoding", "cp1252")
    unencodable = _unencodable_class(encoding)

    def formula(c: pl.Expr) -> pl.Expr:
        return c.str.contains(_FORMULA_START) & ~c.str.contains(_NEGATIVE_NUMBER)

    # One pass for the usual case (nothing wrong); the detailed passes only find the culprit.
    clean = not any(
        data.select(
            (pl.col(f).str.contains(unencodable) | formula(pl.col(f)) | (pl.col(f) == "NULL"))
            .fill_null(False)
            .any()
            .alias(f)
            for f in fields
        ).row(0)
    )
    if clean:
        return data.select(fields)
    bad = _first_bad(data, fields, lambda c: c.str.contains(unencodable))
    if bad:
        f, i = bad
        raise SubmissionError(
            f"{_row_label(data, i)}, field {f}: a character cannot be written in {encoding} "
            "(fix it in the case system or the mapping table)"
        )
    bad = _first_bad(data, fields, formula)
    if bad:
        f, i = bad
        raise SubmissionError(
            f"{_row_label(data, i)}, field {f}: value starts with =, +, - or @ and is not a "
            "negative number; the Data Landing Portal (DLP) rejects it (CSV-injection guard)"
        )
    bad = _first_bad(data, fields, lambda c: c == "NULL")
    if bad:
        f, i = bad
        raise SubmissionError(
            f"{_row_label(data, i)}, field {f}: the text 'NULL'; an empty value must be an "
            "empty cell"
        )
    return data.select(fields)


def _csv_lines(data: pl.DataFrame, header: list[str] | None) -> str:
    if header is not None:
        data = data.rename(dict(zip(data.columns, header, strict=True)))
    return data.write_csv(
        None, include_header=header is not None, null_value="", line_terminator=LINE_END
    )


def write_chunks(out: IO[bytes], data: pl.DataFrame, header: list[str], encoding: str) -> None:
    """The header and then the rows, ``CHUNK_ROWS`` at a time, encoded strictly."""
    out.write(_csv_lines(data.head(0), header).encode(encoding))
    for start in range(0, data.height, CHUNK_ROWS):
        out.write(_csv_lines(data.slice(start, CHUNK_ROWS), None).encode(encoding, "strict"))


def write_submission(
    frame: pl.DataFrame,
    spec: Any,
    path: Path | str,
    header_style: HeaderStyle = "label",
    gzip: bool = False,
) -> Path:
    """Write ``frame`` (a CLD frame, docs/contracts.md §2) as the submission file at ``path``.

    ``gzip`` compresses (``.gz`` is added to the name if missing). Returns the final path.
    """
    path = Path(path)
    if gzip and path.suffix != ".gz":
        path = path.with_name(path.name + ".gz")
    data = validate(frame, spec)
    header = spec.headers(header_style)
    encoding = getattr(spec, "encoding", "cp1252")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            if gzip:
                # mtime=0 and no file name: the same data gives the same bytes
                with gzip_mod.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                    write_chunks(gz, data, header, encoding)
            else:
                write_chunks(raw, data, header, encoding)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
