"""Read any CLD submission file back into a CLD frame (docs/contracts.md section 2).

Files come from this pipeline or from elsewhere (a council's old process, a supplier), so the
reader accepts what the national portal might be sent and says what it found:

* plain or gzip-compressed CSV (detected from the bytes, not the name);
* Windows-1252 (what the portal wants) or UTF-8; a UTF-8 byte-order mark is stripped so the
  first header still matches, but reported, because the portal rejects it;
* either header style (``label`` or ``database``), and the release (R1/R2) from the headers,
  or from the values when the headers do not settle it.

Every field comes back as ``pl.String`` (empty = null) with ``_row`` and null ``_team*``
columns. Unknown or missing headers raise :class:`CldFileError` naming the columns.
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cld_schema import RELEASES, load_spec
from pipelines.textfile import NotText, check_text, read_rows, sniff, structure_fault

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
STYLES = ("label", "database")


class CldFileError(ValueError):
    """The file is not a readable CLD submission; the message says why and what to do."""


@dataclass
class CldFileInfo:
    """How the file was written (for findings about the file itself)."""

    path: Path
    gzip: bool
    encoding: str  # "cp1252" | "utf-8"
    bom: bool
    header_style: str
    release: str
    header_order_ok: bool = True
    rows: int = 0  # data rows (a header-only file has none)
    notes: list[str] = field(default_factory=list)


def _raw_bytes(path: Path) -> tuple[bytes, bool]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CldFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CldFileError(f"{path}: is a folder, not a CLD file") from None
    if data[:2] == GZIP_MAGIC:
        try:
            return gzip.decompress(data), True
        except (OSError, EOFError) as exc:
            raise CldFileError(
                f"{path}: looks gzip-compressed but cannot be read ({exc})"
            ) from None
    return data, False


def _text_of(path: Path, data: bytes) -> tuple[str, str, bool]:
    """The file's text, refusing what is not CSV text (pipelines.textfile says what it is)."""
    try:
        sniff(data, "a CLD file (CSV text)")
        text, encoding, bom = _decode(data)
        check_text(text)
    except NotText as exc:
        raise CldFileError(f"{path}: {exc}") from None
    return text, encoding, bom


def _read_table(path: Path, text: str, width: int) -> pl.DataFrame:
    """Every row as text; a row of the wrong width or broken quoting is an error naming its
    line (polars would pad a short row silently)."""
    fault = structure_fault(text, width)
    if fault:
        raise CldFileError(f"{path}: {fault}")
    try:
        return pl.read_csv(
            io.StringIO(text), infer_schema=False, has_header=True, raise_if_empty=False
        )
    except pl.exceptions.PolarsError as exc:
        try:  # a quote inside an unquoted value: polars refuses, a spreadsheet reads it
            return read_rows(text)
        except Exception:
            pass
        raise CldFileError(f"{path}: not a readable CSV file ({csv_error_text(exc)})") from None


def _decode(data: bytes) -> tuple[str, str, bool]:
    """Text, encoding and whether a UTF-8 BOM was present."""
    bom = data.startswith(UTF8_BOM)
    if bom:
        data = data[len(UTF8_BOM) :]
    try:
        text = data.decode("utf-8")
        # Pure ASCII reads the same either way: call it what the portal wants.
        return text, ("utf-8" if not text.isascii() or bom else "cp1252"), bom
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252", bom


def csv_error_text(exc: BaseException) -> str:
    """A CSV reader's error on one line, without the file text it quotes.

    polars quotes the offending cells (e.g. ``could not parse `9434765919,Smith` ...``); those
    can be personal data, and the text goes to the terminal, logs and summaries.
    """
    first = (str(exc).strip().splitlines() or [""])[0]
    first = first.split("`", 1)[0].rstrip(" :")
    return first[:200] or type(exc).__name__


def _header(text: str) -> list[str]:
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise CldFileError("the file is empty or its first line (the header) is blank")
    try:
        row = pl.read_csv(io.StringIO(first + "\n"), has_header=False, infer_schema=False).row(0)
    except pl.exceptions.PolarsError as exc:
        raise CldFileError(f"the header row is not readable CSV ({csv_error_text(exc)})") from None
    return ["" if h is None else h for h in row]


def _match_headers(headers: list[str], release: str | None) -> list[tuple[str, str, bool]]:
    """(release, style, order_ok) for every spec whose headers are exactly these columns."""
    found = []
    for rel in [release] if release else list(RELEASES):
        spec = load_spec(rel)
        for style in STYLES:
            expected = spec.headers(style)
            if headers == expected:
                found.append((rel, style, True))
            elif sorted(headers) == sorted(expected):
                found.append((rel, style, False))
    return found


def _shown(names: list[str]) -> list[str]:
    """Header texts fit to repeat in a message: a long one, or one holding a long number,
    is most likely data (a row read as the header) and is not repeated."""
    keep = [n for n in names if len(n) <= 60 and not re.search(r"\d{6}", n)]
    if len(keep) < len(names):
        keep.append(f"({len(names) - len(keep)} more that look like data, not names)")
    return keep


def _explain_mismatch(headers: list[str], release: str | None) -> str:
    best = None
    for rel in [release] if release else list(RELEASES):
        spec = load_spec(rel)
        for style in STYLES:
            expected = spec.headers(style)
            score = len(set(headers) & set(expected))
            if best is None or score > best[0]:
                best = (score, rel, style, expected)
    assert best is not None
    score, rel, style, expected = best
    if score == 0:
        # Nothing in the first line is a CLD header: it is most likely a data row (the header
        # is missing), so its texts are not repeated: they can be personal data.
        return (
            "the first line is not a CLD header row (it holds none of the specification's "
            "column names); is the header row missing?"
        )
    missing = [h for h in expected if h not in headers]
    unknown = [h for h in headers if h not in expected]
    duplicated = [h for h in dict.fromkeys(headers) if h in expected and headers.count(h) > 1]
    parts = [f"the header row does not match the {rel} CLD specification ({style} headers)"]
    if duplicated:
        parts.append(f"duplicated columns: {', '.join(duplicated)}")
    if missing:
        parts.append(f"missing columns: {', '.join(missing)}")
    if unknown:
        parts.append(f"unknown columns: {', '.join(_shown(unknown))}")
    parts.append("headers must match exactly: spaces and underscores are not interchangeable")
    return "; ".join(parts)


def _pick_release(
    frame: pl.DataFrame, candidates: list[tuple[str, str, bool]]
) -> tuple[str, str, bool]:
    """Several releases share these headers: the one whose defined lists fit more values."""
    if len({c[0] for c in candidates}) == 1:
        return candidates[0]
    scores = []
    for rel, style, order_ok in candidates:
        spec = load_spec(rel)
        names = spec.field_names
        renamed = frame.rename(dict(zip(frame.columns, names, strict=True)))
        hits = sum(
            renamed.select(pl.col(f.name).is_in(spec.values(f.name)).sum()).item()
            for f in spec.fields
            if f.type == "list"
        )
        scores.append((hits, rel == "R2", (rel, style, order_ok)))
    return max(scores)[2]


def read_cld_info(path: Path | str, release: str | None = None):
    """Read a submission file: (frame, spec, info). See the module docstring."""
    path = Path(path)
    if release is not None and release not in RELEASES:
        raise CldFileError(f"release must be one of {', '.join(RELEASES)}, not {release!r}")
    data, gz = _raw_bytes(path)
    text, encoding, bom = _text_of(path, data)
    try:
        headers = list(_header(text))
    except CldFileError as exc:
        raise CldFileError(f"{path}: {exc}") from None
    candidates = _match_headers(headers, release)
    if not candidates:
        raise CldFileError(f"{path}: {_explain_mismatch(headers, release)}")
    raw = _read_table(path, text, len(headers))
    rel, style, order_ok = _pick_release(raw, candidates)
    spec = load_spec(rel)
    by_header = dict(zip(spec.headers(style), spec.field_names, strict=True))
    frame = (
        raw.rename(by_header)
        .select(spec.field_names)
        .with_row_index("_row")
        .with_columns(
            pl.lit(None, pl.String).alias(c) for c in ("_team_id", "_team_name", "_worker_name")
        )
        .select([*spec.field_names, "_row", "_team_id", "_team_name", "_worker_name"])
    )
    info = CldFileInfo(path, gz, encoding, bom, style, rel, order_ok, rows=frame.height)
    if bom:
        info.notes.append("UTF-8 byte-order mark at the start (the portal rejects it)")
    if encoding == "utf-8":
        info.notes.append("encoded as UTF-8 (the portal expects Windows-1252)")
    if not order_ok:
        info.notes.append("columns are not in the specification's order")
    return frame, spec, info


def read_cld(path: Path | str, release: str | None = None):
    """Read a submission file into a CLD frame: ``(frame, spec)``."""
    frame, spec, _ = read_cld_info(path, release)
    return frame, spec
