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

from cld_schema import LATEST_RELEASE, RELEASES, load_spec
from cld_schema.errors import CldError
from pipelines.textfile import NotText, check_text, read_rows, sniff, structure_fault

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
STYLES = ("label", "database")


class CldFileError(CldError, ValueError):
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
    header_faults: HeaderFaults | None = None  # read_cld_for_check only
    period_release: str | None = None  # the release the file's period implies
    period: str | None = None  # that period (e.g. 2024-25Q4)
    asked_release: str | None = None  # --release, when given


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


def _text_of(path: Path, data: bytes) -> tuple[bytes, str, bool]:
    """The file's text as UTF-8 bytes, its encoding and whether a UTF-8 BOM was present,
    refusing what is not CSV text (pipelines.textfile says what it is). Pure ASCII (what the
    pipeline writes) and UTF-8 are passed on as they are, without a text copy of the file;
    only Windows-1252 with non-ASCII bytes is transcoded."""
    try:
        sniff(data, "a CLD file (CSV text)")
        bom = data.startswith(UTF8_BOM)
        body = data[len(UTF8_BOM) :] if bom else data
        if body.isascii():
            # Pure ASCII reads the same either way: call it what the portal wants.
            payload, encoding = body, ("utf-8" if bom else "cp1252")
        else:
            text, encoding, _ = _decode(body)
            payload = body if encoding == "utf-8" else text.encode("utf-8")
            del text
        check_text(payload)
    except NotText as exc:
        raise CldFileError(f"{path}: {exc}") from None
    return payload, encoding, bom


def _first_line(payload: bytes) -> str:
    end = payload.find(b"\n")
    return (payload if end < 0 else payload[:end]).decode("utf-8", errors="replace")


def _read_table(path: Path, text: bytes, width: int) -> pl.DataFrame:
    """Every row as text; a row of the wrong width or broken quoting is an error naming its
    line (polars would pad a short row silently). ``text``: the file as UTF-8 bytes."""
    fault = structure_fault(text, width)
    if fault:
        raise CldFileError(f"{path}: {fault}")
    try:
        return pl.read_csv(text, infer_schema=False, has_header=True, raise_if_empty=False)
    except pl.exceptions.PolarsError as exc:
        try:  # a quote inside an unquoted value: polars refuses, a spreadsheet reads it
            return read_rows(text.decode("utf-8"))
        except Exception:
            pass
        raise CldFileError(f"{path}: not a readable CSV file ({csv_error_text(exc)})") from None


def _one_chunk(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (just read, held by nobody else) with one chunk per column, in place.
    polars reads a large file in dozens of chunks, and every later query on a chunked frame
    (the period's mode, the checks' plan, the findings' cut, the measures) first copies all
    of its columns into one chunk, each time. Done once, a column at a time (each old column
    goes as its copy replaces it), after the file's bytes are gone."""
    for i in range(frame.width):
        if frame.to_series(i).n_chunks() > 1:
            frame.replace_column(i, frame.to_series(i).rechunk())
    return frame


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
        scores.append((hits, rel == LATEST_RELEASE, (rel, style, order_ok)))
    return max(scores)[2]



def _open(path: Path, release: str | None):
    """The file's text, encoding, BOM flag, gzip flag and header names (shared by both readers)."""
    if release is not None and release not in RELEASES:
        raise CldFileError(f"release must be one of {', '.join(RELEASES)}, not {release!r}")
    data, gz = _raw_bytes(path)
    text, encoding, bom = _text_of(path, data)
    del data
    try:
        headers = list(_header(_first_line(text)))
    except CldFileError as exc:
        raise CldFileError(f"{path}: {exc}") from None
    return text, encoding, bom, gz, headers

def read_cld_info(path: Path | str, release: str | None = None):
    """Read a submission file: (frame, spec, info). See the module docstring."""
    path = Path(path)
    text, encoding, bom, gz, headers = _open(path, release)
    candidates = _match_headers(headers, release)
    if not candidates:
        raise CldFileError(f"{path}: {_explain_mismatch(headers, release)}")
    raw = _read_table(path, text, len(headers))
    del text  # the file's bytes go before the columns are copied into one chunk
    raw = _one_chunk(raw)
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
        info.notes.append("UTF-8 byte-order mark at the start "
                          "(the Data Landing Portal (DLP) rejects it)")
    if encoding == "utf-8":
        info.notes.append("encoded as UTF-8 (the Data Landing Portal (DLP) expects Windows-1252)")
    if not order_ok:
        info.notes.append("columns are not in the specification's order")
    return frame, spec, info


def read_cld(path: Path | str, release: str | None = None):
    """Read a submission file into a CLD frame: ``(frame, spec)``."""
    frame, spec, _ = read_cld_info(path, release)
    return frame, spec


# -- reading a file to check it: the release from its period, header faults as a finding -----


@dataclass
class HeaderFaults:
    """How the header row differs from the release's (names as in the file's style)."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    misordered: list[str] = field(default_factory=list)
    missing_fields: list[str] = field(default_factory=list)  # spec names of the missing ones

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.duplicated or self.misordered)

    def text(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"missing columns: {', '.join(self.missing)}")
        if self.extra:
            parts.append(f"extra columns: {', '.join(_shown(self.extra))}")
        if self.duplicated:
            parts.append(f"duplicated columns: {', '.join(self.duplicated)}")
        if self.misordered:
            parts.append(f"columns out of order: {', '.join(self.misordered)}")
        return "; ".join(parts)


def _out_of_order(positions: list[int]) -> set[int]:
    """Indexes (into ``positions``) off the longest increasing run: the columns to move."""
    import bisect

    tails: list[int] = []
    tail_at: list[int] = []
    parent = [-1] * len(positions)
    for i, p in enumerate(positions):
        k = bisect.bisect_left(tails, p)
        if k == len(tails):
            tails.append(p)
            tail_at.append(i)
        else:
            tails[k] = p
            tail_at[k] = i
        parent[i] = tail_at[k - 1] if k else -1
    keep, i = set(), tail_at[-1] if tail_at else -1
    while i != -1:
        keep.add(i)
        i = parent[i]
    return set(range(len(positions))) - keep


def header_faults(headers: list[str], spec, style: str) -> HeaderFaults:
    """Missing, extra, duplicated and misordered columns of ``headers`` against ``spec``."""
    expected = spec.headers(style)
    where = {h: i for i, h in enumerate(expected)}
    faults = HeaderFaults()
    faults.missing = [h for h in expected if h not in headers]
    faults.missing_fields = [spec.field_names[where[h]] for h in faults.missing]
    faults.extra = list(dict.fromkeys(h for h in headers if h not in where))
    faults.duplicated = [h for h in dict.fromkeys(headers) if h in where and headers.count(h) > 1]
    firsts = [h for h in dict.fromkeys(headers) if h in where]
    moved = _out_of_order([where[h] for h in firsts])
    faults.misordered = [h for i, h in enumerate(firsts) if i in moved]
    return faults


def _period_release(headers: list[str], raw: pl.DataFrame) -> tuple[str | None, str | None]:
    """(release, period) the national process applies: from the file's Reporting Period End
    Date (its most common value), or (None, None) when the file does not say."""
    from datetime import date as _date

    from pipelines.period import Period

    names = set()
    for rel in RELEASES:
        spec = load_spec(rel)
        f = spec.field("Reporting_Period_End_Date")
        names |= {f.name, f.label}
    idx = next((i for i, h in enumerate(headers) if h in names), None)
    if idx is None or raw.height == 0:
        return None, None
    mode = raw.select(pl.nth(idx).drop_nulls().mode().sort().first()).item()
    try:
        end = _date.fromisoformat(str(mode).strip()) if mode else None
    except ValueError:
        end = None
    if end is None:
        return None, None
    period = Period.containing(end)
    return period.default_release, str(period)


def read_cld_for_check(path: Path | str, release: str | None = None):
    """Read a file to check it, as the national process will see it: ``(frame, spec, info)``.

    The release is the one the national process applies to the file's reporting period
    (its Reporting Period End Date: R1 up to 2025-26 Q1, R2 after); ``release`` only when
    the file does not say its period; else the headers decide as in :func:`read_cld_info`.
    A header row that does not match that release is no reason to stop:
    ``info.header_faults`` names the missing, extra, duplicated and misordered columns (one
    file-level finding), and the frame holds the columns present (a column named twice:
    its first one; missing ones blank), so the row checks still run.
    ``info.period_release`` / ``info.period`` say what the period implies (None when the
    file does not say)."""
    path = Path(path)
    text, encoding, bom, gz, headers = _open(path, release)
    known = {h for rel in RELEASES for s in STYLES for h in load_spec(rel).headers(s)}
    if not any(h in known for h in headers):
        raise CldFileError(f"{path}: {_explain_mismatch(headers, release)}")
    raw = _read_table(path, text, len(headers))
    del text  # the file's bytes go before the columns are copied into one chunk
    raw = _one_chunk(raw)
    raw = raw.rename(dict(zip(raw.columns, [f"__c{i}" for i in range(raw.width)], strict=True)))
    by_period, period = _period_release(headers, raw)
    rel = by_period or release
    if rel is None:  # the file does not say its period: the headers decide
        candidates = _match_headers(headers, None)
        rel = _pick_release(raw, candidates)[0] if candidates else None
        if rel is None:
            best = max(
                (len(set(headers) & set(load_spec(r).headers(s))), r) for r in RELEASES
                 for s in STYLES
            )  # fmt: skip
            rel = best[1]
    spec = load_spec(rel)
    style = max(STYLES, key=lambda s: (len(set(headers) & set(spec.headers(s))), s == "label"))
    faults = header_faults(headers, spec, style)
    if len(faults.missing) * 2 > len(spec.fields):  # not a CLD file with a few faults
        raise CldFileError(f"{path}: {_explain_mismatch(headers, rel)}")
    first_at = {}
    for i, h in enumerate(headers):
        first_at.setdefault(h, i)
    cols = []
    for f, h in zip(spec.fields, spec.headers(style), strict=True):
        if h in first_at:
            cols.append(pl.col(f"__c{first_at[h]}").alias(f.name))
        else:
            cols.append(pl.lit(None, pl.String).alias(f.name))
    frame = raw.select(cols).with_row_index("_row").with_columns(
        pl.lit(None, pl.String).alias(c) for c in ("_team_id", "_team_name", "_worker_name")
    )
    frame = frame.select([*spec.field_names, "_row", "_team_id", "_team_name", "_worker_name"])
    info = CldFileInfo(
        path, gz, encoding, bom, style, rel, not faults.misordered, rows=frame.height
    )
    info.header_faults = faults
    info.period_release, info.period = by_period, period
    info.asked_release = release
    if bom:
        info.notes.append("UTF-8 byte-order mark at the start "
                          "(the Data Landing Portal (DLP) rejects it)")
    if encoding == "utf-8":
        info.notes.append("encoded as UTF-8 (the Data Landing Portal (DLP) expects Windows-1252)")
    if faults:
        info.notes.append(f"header row: {faults.text()}")
    return frame, spec, info
