"""What a file handed to the pipeline really is, before it is read as CSV.

Used by the CLD file reader (``cld check``) and the provider feeds, so both say the same thing
about the same wrong file: a workbook, a PDF, a Parquet or compressed file, UTF-16 text, NUL
bytes, old-Mac line endings, rows with too few or too many fields. Messages name the file's
kind and the line, never its contents (a data row can hold personal data).
"""

from __future__ import annotations

import csv
import io

import polars as pl

from cld_schema.errors import CldError

# Magic numbers of the kinds of file people send by mistake.
_MAGIC: list[tuple[bytes, str]] = [
    (b"PK\x03\x04", "an Excel workbook or zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel (.xls) or other Office file"),
    (b"%PDF", "a PDF file"),
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "gzip-compressed"),
    (b"BZh", "bzip2-compressed"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
]


class NotText(CldError, ValueError):
    """The bytes are not CSV text; the message says what they are instead."""


def sniff(data: bytes, want: str = "CSV text") -> None:
    """Raise :class:`NotText` for bytes that are plainly not a CSV file."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise NotText(f"{kind}, not {want}: save or export it as CSV")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotText("encoded as UTF-16 (Excel's 'Unicode text'): save it as CSV "
                      "(Windows-1252 or UTF-8)")  # fmt: skip
    head = data[:4096]
    if head.count(0) * 4 >= len(head) > 0:
        # Text in UTF-16 has a NUL in every other byte (ASCII characters); binary data or a
        # zeroed file has them anywhere.
        half = len(head) // 2
        odd, even = head[1::2].count(0), head[0::2].count(0)
        if half and max(odd, even) >= 0.9 * half and min(odd, even) <= 0.1 * half:
            raise NotText("encoded as UTF-16 without a byte-order mark: save it as CSV "
                          "(Windows-1252 or UTF-8)")  # fmt: skip
        raise NotText(f"binary data (NUL bytes), not {want}")


def check_text(text: str | bytes) -> None:
    """Raise :class:`NotText` for decoded text (or its UTF-8 bytes) a CSV reader would misread
    silently."""
    nul, cr, lf = ("\x00", "\r", "\n") if isinstance(text, str) else (b"\x00", b"\r", b"\n")
    if nul in text:
        line = text.count(lf, 0, text.index(nul)) + 1
        raise NotText(f"a NUL byte on line {line}: the file is damaged or not plain text")
    if cr in text and lf not in text:
        raise NotText("lines end in CR only (old Mac format): save it as CSV with Windows "
                      "(CR LF) or Unix (LF) line endings")  # fmt: skip


def structure_fault(text: str | bytes, width: int) -> str | None:
    """What breaks the table's shape, naming the line: a data line whose field count differs
    from the header's ``width``, or a quote opened and never closed. None when sound.
    ``text`` is the decoded text or its UTF-8 bytes (a large file then needs no text copy).

    Vectorised: each physical line's commas outside quotes are counted with polars; only a
    file with a quoted value spanning lines is walked with the csv module. Lines are counted
    as they are (no stripped or filtered copy of the file's text): a line ending in CR counts
    the same commas, and one holding only CRs is blank.
    """
    if isinstance(text, bytes) and len(text) < 4_000_000:
        text = text.decode("utf-8")
    if isinstance(text, str) and len(text) < 4_000_000:
        lines = pl.Series("l", text.split("\n"))
    else:
        source = text if isinstance(text, bytes) else io.StringIO(text)
        lines = pl.read_csv(source, has_header=False, separator="\x1f",
                            quote_char=None, infer_schema=False, new_columns=["l"],
                            raise_if_empty=False)["l"].fill_null("")  # fmt: skip
    frame = pl.DataFrame({"l": lines}).with_row_index("n", offset=1)
    del lines
    quotes = pl.col("l").str.count_matches('"', literal=True)
    odd, quoted = frame.select(
        (quotes % 2 == 1).any().alias("odd"), (quotes > 0).any().alias("quoted")
    ).row(0)
    if odd:
        return _fault_csv(text if isinstance(text, str) else text.decode("utf-8"), width)
    line = pl.col("l")
    if quoted:  # commas inside quoted values do not count
        line = line.str.replace_all(r'"[^"]*"', "")
    bad = (
        frame.lazy()
        .select(
            "n",
            pl.col("l").str.contains(r"^\r*$").alias("blank"),
            (line.str.count_matches(",", literal=True) + 1).alias("fields"),
        )
        .filter(pl.col("n") > 1, ~pl.col("blank"), pl.col("fields") != width)
        .head(1)
        .collect()
    )
    if bad.height:
        return _ragged(int(bad["n"][0]), int(bad["fields"][0]), width)
    return None


def _ragged(line: int, fields: int, width: int) -> str:
    what = "fewer" if fields < width else "more"
    return (f"line {line} has {fields} fields, {what} than the header's {width} (a row cut "
            "short or a value with an unquoted comma)")  # fmt: skip


def _fault_csv(text: str, width: int) -> str | None:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    next(reader, None)
    try:
        for rec in reader:
            if rec and len(rec) != width:
                return _ragged(reader.line_num, len(rec), width)
    except csv.Error:
        return (f"line {reader.line_num}: a quote is opened and not closed, or stray text "
                "follows a closing quote")  # fmt: skip
    return None


def read_rows(text: str) -> pl.DataFrame:
    """All-text frame via the csv module: the slow path for files whose quoting polars
    refuses (a quote inside an unquoted value) but a spreadsheet reads fine."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], [r for r in rows[1:] if r]
    frame = pl.DataFrame(body, schema=header, orient="row")
    return frame.with_columns(pl.col(c).replace("", None) for c in header)
