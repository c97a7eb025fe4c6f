"""The corpus of malformed inputs and faults: one table, one row per case.

Each case names the input (``area``, ``input``: what a person would call it), how to make it
(``make``: writes the input into the case's own folder and returns the ``cld`` arguments), and
what it must get (``expect``). ``tests/corpus/test_corpus.py`` runs every row;
``docs/inputs.md`` is generated from this table (``python -m tests.corpus.docs``) and a test
keeps the two equal.

Every case also passes the checks common to all: no traceback, no personal value planted in
the input printed anywhere, and (history cases) the output folder holding the file history
records.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------------
# What a case must get


@dataclass(frozen=True)
class Expect:
    kind: str  # error | checked | quarantined | taken | ok
    pattern: str = ""  # regex the error line / reason must match
    code: int | None = None  # checked: the exit code (0 ready, 1 errors)
    rules: tuple[str, ...] = ()  # checked: rule ids that must be among the findings
    text: str = ""  # for people (docs); default from the above

    def describe(self) -> str:
        if self.text:
            return self.text
        if self.kind == "error":
            return "one line of error, exit 2"
        if self.kind == "checked":
            verdict = {0: "ready", 1: "not ready (exit 1)"}.get(self.code, "checked")
            found = f": {', '.join(self.rules)}" if self.rules else ""
            return f"checked, {verdict}{found}"
        if self.kind == "quarantined":
            return "quarantined with its reason; the build goes on"
        if self.kind == "taken":
            return "taken in"
        return "runs"


def error(pattern: str, text: str = "") -> Expect:
    return Expect("error", pattern, text=text)


def checked(code: int, *rules: str, text: str = "") -> Expect:
    return Expect("checked", code=code, rules=rules, text=text)


def quarantined(pattern: str, text: str = "") -> Expect:
    return Expect("quarantined", pattern, text=text)


def taken(pattern: str = "", text: str = "") -> Expect:
    return Expect("taken", pattern, text=text)


@dataclass(frozen=True)
class Case:
    id: str
    area: str
    input: str
    make: Callable[[Any], Any]
    expect: Expect
    child: bool = False  # run as a separate process (kills, limits, concurrency)
    root: bool = False  # needs root (mounts a tiny tmpfs)
    tags: tuple[str, ...] = field(default_factory=tuple)


CASES: list[Case] = []


def case(area: str, id: str, input: str, expect: Expect, **kw: Any):
    def register(make: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if any(c.id == id for c in CASES):
            raise ValueError(f"duplicate corpus case id {id}")
        CASES.append(Case(id, area, input, make, expect, **kw))
        return make

    return register


# --------------------------------------------------------------------------------------------
# CLD files given to `cld check`

CLD = "CLD file (cld check)"


def _rows(ws) -> tuple[list[str], list[list[str]]]:
    text = ws.base_cld.decode("cp1252")
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def _csv_text(header: list[str], rows: list[list[str]], newline: str = "\r\n") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _set(ws, field_label: str, value: str, rows: int | slice = 0) -> str:
    header, body = _rows(ws)
    i = header.index(field_label)
    sel = range(len(body))[rows] if isinstance(rows, slice) else [rows]
    for r in sel:
        body[r][i] = value
    return _csv_text(header, body)


def check(ws, data: bytes | str, name: str = "submission.csv", *extra: str) -> list[str]:
    path = ws.dir / name
    path.write_bytes(data.encode("cp1252") if isinstance(data, str) else data)
    return ["-c", str(ws.config()), "check", str(path), "--no-docs", "--out", str(ws.dir / "o"),
            *extra]  # fmt: skip


def cld_case(id: str, input: str, expect: Expect, make: Callable[[Any], bytes | str],
             name: str = "submission.csv") -> None:  # fmt: skip
    case(CLD, id, input, expect)(lambda ws: check(ws, make(ws), name))


def _base(ws) -> str:
    return ws.base_cld.decode("cp1252")


# encodings
cld_case("cld-utf8-bom", "UTF-8 with a byte-order mark", checked(1, "FILE_bom"),
         lambda ws: b"\xef\xbb\xbf" + _base(ws).encode("utf-8"))
cld_case("cld-utf8-accents", "UTF-8 text with accents (not Windows-1252)",
         checked(1, "FILE_encoding"),
         lambda ws: _set(ws, "Event Description", "Café visit").encode("utf-8"))
cld_case("cld-cp1252-accents", "Windows-1252 text with accents and a £ sign (as the portal wants)",
         Expect("checked", text="checked as usual: no encoding finding"),
         lambda ws: _set(ws, "Event Description", "Café visit £5").encode("cp1252"))
cld_case("cld-utf16", "UTF-16 (Excel's 'Unicode text')", error(r"UTF-16"),
         lambda ws: _base(ws).encode("utf-16"))
cld_case("cld-utf16-nobom", "UTF-16 without a byte-order mark", error(r"UTF-16|NUL"),
         lambda ws: _base(ws).encode("utf-16-le"))
cld_case("cld-undefined-cp1252", "bytes undefined in Windows-1252 (0x81, 0x8D) in a value",
         checked(1, "LOG094"),
         lambda ws: _set(ws, "Event Description", "AB").encode("cp1252").replace(b"AB", b"A\x81\x8dB"))
# compression and wrong file types
cld_case("cld-gzip", "gzip-compressed CSV named .csv", Expect("checked", text="checked as usual"),
         lambda ws: gzip.compress(ws.base_cld))
cld_case("cld-gzip-truncated", "a gzip file cut short", error(r"gzip"),
         lambda ws: gzip.compress(ws.base_cld)[:200])
cld_case("cld-gzip-twice", "CSV gzip-compressed twice", error(r"gzip|compressed|not a CLD|binary"),
         lambda ws: gzip.compress(gzip.compress(ws.base_cld)))
cld_case("cld-zip", "a zip archive holding the CSV", error(r"zip"),
         lambda ws: _zip(ws.base_cld))
cld_case("cld-bzip2", "bzip2-compressed CSV", error(r"bzip2"), lambda ws: bz2.compress(ws.base_cld))
cld_case("cld-xz", "xz-compressed CSV", error(r"xz"), lambda ws: lzma.compress(ws.base_cld))
cld_case("cld-xlsx", "an Excel workbook saved as .csv", error(r"Excel workbook"),
         lambda ws: ws.workbook())
cld_case("cld-pdf", "a PDF file", error(r"PDF"), lambda ws: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
cld_case("cld-parquet", "a Parquet file", error(r"Parquet"), lambda ws: ws.parquet())
cld_case("cld-json", "a JSON file", error(r"not a CLD header row"),
         lambda ws: '[{"LA Code": "999", "NHS Number": "9434765919"}]\n')
cld_case("cld-html", "an HTML page saved as .csv", error(r"not a CLD header row"),
         lambda ws: "<html><body><table><tr><td>9434765919</td></tr></table></body></html>\n")
cld_case("cld-empty", "an empty file (0 bytes)", error(r"empty"), lambda ws: b"")
cld_case("cld-blank-lines", "a file of blank lines", error(r"empty|blank"), lambda ws: "\r\n\r\n\r\n")


@case(CLD, "cld-folder", "a folder holding no CLD files", error(r"no \.csv or \.csv\.gz files"))
def _folder(ws):
    (ws.dir / "afolder.csv").mkdir()
    return ["-c", str(ws.config()), "check", str(ws.dir / "afolder.csv"), "--no-docs"]


@case(CLD, "cld-missing", "a file that does not exist", error(r"no such file"))
def _missing(ws):
    return ["-c", str(ws.config()), "check", str(ws.dir / "nope.csv"), "--no-docs"]


# header faults
def _drop_header(ws) -> str:
    return "".join(_base(ws).splitlines(keepends=True)[1:])


def _header_edit(ws, fn: Callable[[list[str]], list[str]]) -> str:
    header, body = _rows(ws)
    new = fn(list(header))
    if len(new) != len(header):
        width = len(new)
        body = [(r + [""] * width)[:width] for r in body]
    return _csv_text(new, body)


cld_case("cld-no-header", "the header row missing (data on line 1)",
         error(r"not a CLD header row.*header row missing"), _drop_header)
# A header that does not match the period's release is one file-level finding (FILE_header,
# naming the columns) and the rows are still checked (issue 12: as the national process sees it).
cld_case("cld-header-missing-column", "a column missing from the header",
         checked(1, "FILE_header"),
         lambda ws: _header_edit(ws, lambda h: [c for c in h if c != "GP Practice Code"]))
cld_case("cld-header-extra-column", "an extra column the specification does not have",
         checked(1, "FILE_header"), lambda ws: _header_edit(ws, lambda h: [*h, "Notes"]))
cld_case("cld-header-duplicate", "a column named twice (GP Practice Code in place of Gender)",
         checked(1, "FILE_header"),
         lambda ws: _header_edit(ws, lambda h: [("GP Practice Code" if c == "Gender" else c)
                                                for c in h]))
cld_case("cld-header-space", "a header with a trailing space ('Gender ')",
         checked(1, "FILE_header"),
         lambda ws: _header_edit(ws, lambda h: [("Gender " if c == "Gender" else c) for c in h]))
cld_case("cld-header-lowercase", "headers in lower case", error(r"header row|missing columns"),
         lambda ws: _header_edit(ws, lambda h: [c.lower() for c in h]))
cld_case("cld-header-order", "columns in another order", checked(1, "FILE_header"),
         lambda ws: _reorder(ws))
cld_case("cld-header-mixed-styles", "label and database header styles mixed",
         checked(1, "FILE_header"),
         lambda ws: _header_edit(ws, lambda h: [("NHS_Number" if c == "NHS Number" else c)
                                                for c in h]))
cld_case("cld-semicolon", "semicolon-separated (a European Excel's CSV)",
         error(r"not a CLD header row|semicolon"),
         lambda ws: _base(ws).replace(",", ";"))
cld_case("cld-tab", "tab-separated text", error(r"not a CLD header row|tab"),
         lambda ws: _base(ws).replace(",", "\t"))


def _reorder(ws) -> str:
    header, body = _rows(ws)
    order = [1, 0, *range(2, len(header))]
    return _csv_text([header[i] for i in order], [[r[i] for i in order] for r in body])


# quoting, NUL bytes, line endings
def _append_line(ws, line: str) -> str:
    return _base(ws) + line


cld_case("cld-unterminated-quote", "a quote opened and never closed",
         error(r"not a readable CSV|quote"),
         lambda ws: _set(ws, "Event Description", "QQQ").replace('QQQ', '"Smithson 9434765919'))
cld_case("cld-stray-quote", "a stray quote inside an unquoted value (5\" nails)",
         Expect("checked", text="checked (the quote kept as text)"),
         lambda ws: _set(ws, "Event Description", "QQQ").replace("QQQ", 'Rail 5" long'))
cld_case("cld-newline-in-value", "a line break inside a quoted value",
         checked(1, "LOG094"), lambda ws: _set(ws, "Event Description", "two\nlines"))
cld_case("cld-nul-in-value", "a NUL byte inside a value", error(r"NUL byte on line 2"),
         lambda ws: _set(ws, "Event Description", "AB").replace("AB", "A\x00B"))
cld_case("cld-nul-file", "a file of NUL bytes", error(r"NUL|empty|not a CLD"),
         lambda ws: b"\x00" * 4096)
cld_case("cld-lf-endings", "Unix line endings", Expect("checked", text="checked as usual"),
         lambda ws: _base(ws).replace("\r\n", "\n"))
cld_case("cld-cr-endings", "old Mac line endings (CR only)", error(r"line endings|CR"),
         lambda ws: _base(ws).replace("\r\n", "\r"))
cld_case("cld-blank-line-middle", "a blank line between rows",
         Expect("checked", text="checked (blank line ignored)"),
         lambda ws: _base(ws).replace("\r\n", "\r\n\r\n", 3))
# huge fields
cld_case("cld-huge-field", "a 5 MB value in Event Description",
         checked(1, "FLD_Event_Description_length"),
         lambda ws: _set(ws, "Event Description", "x" * 5_000_000))
cld_case("cld-huge-header", "a header line of 2 MB", error(r"header row|not a CLD header"),
         lambda ws: "A" * 2_000_000 + "\r\n" + "".join(_base(ws).splitlines(True)[1:]))
# short and long rows
cld_case("cld-short-row", "a row with fewer fields than the header", error(r"line \d+.*fields"),
         lambda ws: _append_line(ws, "999,2025-01-01,2025-12-31,9434765919,Smithson\r\n"))
cld_case("cld-long-row", "a row with more fields than the header", error(r"line \d+.*fields"),
         lambda ws: _append_line(ws, ",".join(["999", "9434765919"] + ["x"] * 60) + "\r\n"))
# dates and numbers in wrong formats
cld_case("cld-uk-dates", "dates as dd/mm/yyyy", checked(1, "FLD_Event_Start_Date_format"),
         lambda ws: _set(ws, "Event Start Date", "08/08/2025", slice(None)))
cld_case("cld-us-dates", "dates as mm/dd/yyyy", checked(1, "FLD_Event_Start_Date_format"),
         lambda ws: _set(ws, "Event Start Date", "08/13/2025", slice(None)))
cld_case("cld-excel-serial-dates", "dates as Excel serial numbers (45877)",
         checked(1, "FLD_Date_of_Birth_format"),
         lambda ws: _set(ws, "Date of Birth", "45877", slice(None)))
cld_case("cld-datetime", "dates with a time (2025-08-08 00:00:00)",
         checked(1, "FLD_Event_Start_Date_format"),
         lambda ws: _set(ws, "Event Start Date", "2025-08-08 00:00:00", slice(None)))
cld_case("cld-impossible-date", "an impossible date (2025-02-30)",
         checked(1, "FLD_Event_Start_Date_format"),
         lambda ws: _set(ws, "Event Start Date", "2025-02-30"))
cld_case("cld-nhs-scientific", "NHS numbers mangled by Excel (9.43E+09)",
         checked(1, "FLD_NHS_Number_mod11"),
         lambda ws: _set(ws, "NHS Number", "9.43477E+09", slice(None)))
cld_case("cld-cost-pounds", "a unit cost written £1,234.50",
         checked(1, "FLD_Unit_Cost_format"),
         lambda ws: _set(ws, "Unit Cost", "£1,234.50", ws.service_row()))
cld_case("cld-cost-comma-decimal", "a unit cost with a decimal comma (12,50)",
         checked(1, "FLD_Unit_Cost_format"),
         lambda ws: _set(ws, "Unit Cost", "12,50", ws.service_row()))
cld_case("cld-la-code-text", "LA code as text ('Sample')", checked(1, "FLD_LA_Code_format"),
         lambda ws: _set(ws, "LA Code", "Sample", slice(None)))
# formula-like and HTML text
cld_case("cld-formula", "a formula in Event Description (=HYPERLINK(...))",
         checked(1, "LOG091", text="checked: LOG091; findings.csv keeps it as text"),
         lambda ws: _set(ws, "Event Description", '=HYPERLINK("http://x","y")'))
cld_case("cld-dde", "a DDE payload (=cmd|' /C calc'!A0) in Event Description",
         checked(1, "LOG091"), lambda ws: _set(ws, "Event Description", "=cmd|' /C calc'!A0"))
cld_case("cld-html-text", "HTML and script in Event Description",
         Expect("checked", text="checked; kept as text"),
         lambda ws: _set(ws, "Event Description", "<script>alert(1)</script><b>x</b>"))


@case(CLD, "cld-identifiers-in-free-text",
      "an NHS number and a postcode typed into Event Description",
      checked(1, "LOG095", text="checked: LOG095; findings and team workbooks hold the text "
              "with the identifiers removed"))
def _free_text(ws):
    # on every row, so the unallocated list (rows with no team) carries it too
    args = check(ws, _set(ws, "Event Description", "Seen 943 476 5919 at ls1 4ap home",
                          slice(None)))

    def nothing_leaks(ws, res) -> None:
        import polars as pl
        from openpyxl import load_workbook

        from tests.corpus.harness import run_cld

        found = pl.read_parquet(ws.dir / "o" / "findings.parquet")
        quoted = found.filter(pl.col("field") == "Event_Description")["value"].to_list()
        assert quoted and all(v == "Seen [NHS number removed] at [postcode removed] home"
                              for v in quoted), quoted[:3]
        texts = [(ws.dir / "o" / "findings.csv").read_text(encoding="utf-8")]
        lists = run_cld(["-c", str(ws.config()), "exceptions", "--findings",
                         str(ws.dir / "o" / "findings.parquet"), "--out", str(ws.dir / "x")])
        assert lists.code == 0, lists.err
        books = list((ws.dir / "x").rglob("*.xlsx"))
        assert any("nallocated" in b.name for b in books), [b.name for b in books]
        for book in books:
            wb = load_workbook(book, read_only=True)
            for sheet in wb.worksheets:
                for row in sheet.iter_rows(values_only=True):
                    texts.append(" ".join(str(v) for v in row if v is not None))
        blob = "\n".join(texts).replace(" ", "").lower()
        for value in ("9434765919", "ls14ap"):
            assert value not in blob, f"{value[:3]}… copied into the findings or a workbook"

    ws.extra["verify"] = nothing_leaks
    return args


def _zip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("submission.csv", data)
    return buf.getvalue()


# a million rows (the file is made once per session)
@case(CLD, "cld-million-rows-bad-last", "a million rows whose last row opens a quote",
      error(r"not a readable CSV|quote"))
def _million(ws):
    return check(ws, ws.million_rows(), "million.csv")


# --------------------------------------------------------------------------------------------
# cld.toml and the files it names

CONFIG = "cld.toml and the files it names"


def config_case(id: str, input: str, expect: Expect, command: str = "check"):
    """``make(ws)`` writes the faulty configuration and returns its path."""

    def register(make: Callable[[Any], Path]):
        def run(ws):
            cfg = make(ws)
            if command == "check":
                return check_args(ws, cfg)
            if command == "run":
                return ["-c", str(cfg), "run", "quarterly", "--period", ws.council.period,
                        "--dry-run"]  # fmt: skip
            if command == "build":
                return ["-c", str(cfg), "build", "--period", ws.council.period,
                        "--out", str(ws.dir / "b.csv")]  # fmt: skip
            if command == "feedback":
                return ["-c", str(cfg), "feedback", str(ws.council.feedback)]
            if command == "exceptions":
                return ["-c", str(cfg), "run", "quarterly", "--period", ws.council.period,
                        "--dry-run"]  # fmt: skip
            raise ValueError(command)

        case(CONFIG, id, input, expect)(run)
        return make

    return register


def check_args(ws, cfg: Path) -> list[str]:
    path = ws.dir / "submission.csv"
    path.write_bytes(ws.base_cld)
    return ["-c", str(cfg), "check", str(path), "--no-docs", "--out", str(ws.dir / "o")]


@config_case("cfg-latin1", "cld.toml saved in Latin-1 (a £ or é in a comment)",
             error(r"cld\.toml.*UTF-8"))
def _latin1(ws):
    p = ws.config()
    p.write_bytes(p.read_bytes().replace(b'name = "', "# café £\nname = \"".encode("latin-1"), 1))
    return p


@config_case("cfg-utf16", "cld.toml saved as UTF-16", error(r"cld\.toml.*UTF-8"))
def _cfg_utf16(ws):
    p = ws.config()
    p.write_bytes(p.read_text(encoding="utf-8").encode("utf-16"))
    return p


@config_case("cfg-bom", "cld.toml with a UTF-8 byte-order mark (Notepad)",
             Expect("checked", text="read as usual"))
def _cfg_bom(ws):
    p = ws.config()
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    return p


@config_case("cfg-missing", "the --config file does not exist", error(r"not found"))
def _cfg_missing(ws):
    return ws.dir / "nope.toml"


@config_case("cfg-folder", "--config names a folder", error(r"is a folder|not a file"))
def _cfg_folder(ws):
    (ws.dir / "conf").mkdir()
    return ws.dir / "conf"


@config_case("cfg-not-toml", "cld.toml that is not TOML (an INI file)", error(r"not valid TOML"))
def _cfg_ini(ws):
    p = ws.dir / "cld.toml"
    p.write_text("[council]\nla_code: 999\n", encoding="utf-8")
    return p


@config_case("cfg-unknown-key", "an unknown key ([council] la_cod)", error(r"unknown key"))
def _cfg_unknown(ws):
    return ws.config(council__la_cod='"999"')


@config_case("cfg-unknown-section", "an unknown section ([sauce])", error(r"unknown key sauce"))
def _cfg_unknown_section(ws):
    return ws.config(sauce__x='"1"')


@config_case("cfg-wrong-type", "a value of the wrong type (retries = \"three\")",
             error(r"\[delivery\] retries"))
def _cfg_type(ws):
    return ws.config(delivery__retries='"three"')


@config_case("cfg-bad-la-code", "an LA code that is not a CASSR code", error(r"la_code"))
def _cfg_la(ws):
    return ws.config(council__la_code='"ABC"')


@config_case("cfg-no-council", "no [council] section", error(r"missing key council"))
def _cfg_no_council(ws):
    text = ws.config().read_text(encoding="utf-8")
    return ws.config(text=re.sub(r"\[council\][^\[]*", "", text))


@config_case("cfg-thresholds-missing", "[checks] thresholds names no file (cld check)",
             error(r"\[checks\] thresholds.*no such file"))
def _cfg_thr_missing(ws):
    return ws.config(checks__thresholds='"nowhere/thresholds.yaml"')


@config_case("cfg-thresholds-missing-run", "[checks] thresholds names no file (cld run)",
             error(r"\[checks\] thresholds.*no such file"), command="run")
def _cfg_thr_missing_run(ws):
    return ws.config(checks__thresholds='"nowhere/thresholds.yaml"')


@config_case("cfg-directory-missing", "[delivery] directory names no file (cld run)",
             error(r"\[delivery\] directory.*no such file"), command="run")
def _cfg_dir_missing(ws):
    return ws.config(delivery__directory='"nowhere/team_directory.csv"')


@config_case("cfg-thresholds-broken-yaml", "a thresholds file of broken YAML",
             error(r"thresholds.*not valid YAML.*line \d+"))
def _cfg_thr_yaml(ws):
    bad = ws.dir / "thresholds.yaml"
    bad.write_text("completeness:\n  Gender: {mostly: 0.9\n  Ethnicity: [\n", encoding="utf-8")
    return ws.config(checks__thresholds=f'"{bad}"')


@config_case("cfg-thresholds-wrong-type", "a thresholds file with mostly: \"high\"",
             error(r"thresholds"))
def _cfg_thr_type(ws):
    bad = ws.dir / "thresholds.yaml"
    bad.write_text("completeness:\n  Gender: {mostly: high}\n", encoding="utf-8")
    return ws.config(checks__thresholds=f'"{bad}"')


@config_case("cfg-thresholds-latin1", "a thresholds file saved in Latin-1",
             error(r"thresholds.*UTF-8"))
def _cfg_thr_latin1(ws):
    bad = ws.dir / "thresholds.yaml"
    bad.write_bytes("# seuil café\ncompleteness: {}\n".encode("latin-1"))
    return ws.config(checks__thresholds=f'"{bad}"')


@config_case("cfg-layout-broken-yaml", "a feedback layout of broken YAML",
             error(r"feedback layout.*not valid YAML.*line \d+"), command="feedback")
def _cfg_layout_yaml(ws):
    bad = ws.dir / "layout.yaml"
    bad.write_text("columns:\n  la_person_id: [LA_Person_ID\n  nhs: x\n", encoding="utf-8")
    return ws.config(feedback__layout=f'"{bad}"')


@config_case("cfg-layout-missing", "[feedback] layout names no file",
             error(r"\[feedback\] layout.*no such file"), command="feedback")
def _cfg_layout_missing(ws):
    return ws.config(feedback__layout='"nowhere.yaml"')


@config_case("cfg-output-under-file", "[paths] output_dir inside a file (not a folder)",
             error(r"output_dir|Not a directory|not a folder"), command="run")
def _cfg_out_file(ws):
    (ws.dir / "afile").write_text("x")
    return ws.config(paths__output_dir=f'"{ws.dir / "afile" / "out"}"')


@config_case("cfg-contracts-missing", "[paths] contracts_dir names no folder",
             error(r"contracts"), command="build")
def _cfg_contracts_missing(ws):
    return ws.config(paths__contracts_dir='"nowhere"')


@config_case("cfg-contract-invalid", "a feed contract with a wrong key (type: datetime)",
             error(r"carers_feed\.yaml.*columns.*type"), command="build")
def _cfg_contract_invalid(ws):
    import shutil

    src = ws.council.config.read_text(encoding="utf-8")
    contracts = Path(re.search(r'contracts_dir = "([^"]+)"', src).group(1))
    mine = ws.dir / "contracts"
    shutil.copytree(contracts, mine)
    p = mine / "carers_feed.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("type: date", "type: datetime", 1),
                 encoding="utf-8")
    return ws.config(paths__contracts_dir=f'"{mine}"')


@config_case("cfg-contract-broken-yaml", "a feed contract of broken YAML",
             error(r"carers_feed\.yaml.*not valid YAML.*line \d+"), command="build")
def _cfg_contract_yaml(ws):
    import shutil

    src = ws.council.config.read_text(encoding="utf-8")
    contracts = Path(re.search(r'contracts_dir = "([^"]+)"', src).group(1))
    mine = ws.dir / "contracts"
    shutil.copytree(contracts, mine)
    (mine / "carers_feed.yaml").write_text("name: carers\ncolumns: [\n", encoding="utf-8")
    return ws.config(paths__contracts_dir=f'"{mine}"')


@config_case("cfg-mappings-missing", "[paths] mappings_dir names no folder",
             error(r"mapping"), command="build")
def _cfg_mappings_missing(ws):
    return ws.config(paths__mappings_dir='"nowhere"')


@config_case("cfg-sql-missing", "[paths] sql_dir names no folder", error(r"SQL folder"),
             command="build")
def _cfg_sql_missing(ws):
    return ws.config(paths__sql_dir='"nowhere"')


@config_case("cfg-sample-db-missing", "[source] sample_db names no file", error(r"sample|database"),
             command="build")
def _cfg_sample_missing(ws):
    return ws.config(source__sample_db='"nowhere/council.db"')


# --------------------------------------------------------------------------------------------
# Provider feed files: all of them dropped into one feeds folder and taken in by one build
# (the build must go on past every one of them)

FEED = "provider feed file (cld build)"


@dataclass(frozen=True)
class FeedFile:
    name: str
    data: bytes


def feed_case(id: str, input: str, expect: Expect, ext: str = "csv", kind: str = "carers"):
    def register(make: Callable[[Any], bytes | str]):
        def run(ws) -> FeedFile:
            data = make(ws)
            if isinstance(data, str):
                data = data.encode("utf-8")
            return FeedFile(f"{kind}_corpus-{id}.{ext}", data)

        case(FEED, id, input, expect, tags=("feed",))(run)
        return make

    return register


def _feed_rows(ws, kind: str = "carers") -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(ws.feed_text(kind))))
    return rows[0], rows[1:]


def _feed(header: list[str], rows: list[list[str]], newline: str = "\r\n") -> str:
    return _csv_text(header, rows, newline)


def _feed_edit(ws, fn: Callable[[list[str], list[list[str]]], tuple[list, list]]) -> str:
    h, rows = _feed_rows(ws)
    return _feed(*fn(h, rows))


def _dup_col(name: str, new: str):
    def fn(h, rows):
        i = h.index(name)
        return [*h, new], [[*r, r[i]] for r in rows]

    return fn


feed_case("feed-duplicate-column", "a carers file with a second 'Activity Start Date' column",
          quarantined(r"'Activity Start Date' appears twice"))(
    lambda ws: _feed_edit(ws, _dup_col("Activity Start Date", "Activity Start Date")))
feed_case("feed-near-duplicate-space", "'Record ID' and 'Record ID ' (a trailing space)",
          quarantined(r"'Record ID' and 'Record ID ' differ only"))(
    lambda ws: _feed_edit(ws, _dup_col("Record ID", "Record ID ")))
feed_case("feed-near-duplicate-case", "'Outcome' and 'OUTCOME'",
          quarantined(r"'Outcome' and 'OUTCOME' differ only"))(
    lambda ws: _feed_edit(ws, _dup_col("Outcome", "OUTCOME")))
feed_case("feed-duplicate-xlsx", "a workbook with 'Record ID' twice",
          quarantined(r"'Record ID' appears twice"), ext="xlsx")(
    lambda ws: ws.feed_workbook(_dup_col("Record ID", "Record ID")))
feed_case("feed-missing-column", "a required column missing",
          quarantined(r"missing column\(s\): 'Activity Type'"))(
    lambda ws: _feed_edit(ws, lambda h, rows: (
        [c for c in h if c != "Activity Type"],
        [[v for c, v in zip(h, r, strict=True) if c != "Activity Type"] for r in rows])))
feed_case("feed-no-header", "the header row missing",
          quarantined(r"is the header missing"))(
    lambda ws: "".join(ws.feed_text().splitlines(True)[1:]))
feed_case("feed-empty", "an empty file", quarantined(r"empty"))(lambda ws: b"")
feed_case("feed-header-only", "a header and no rows", quarantined(r"no data rows"))(
    lambda ws: ws.feed_text().splitlines(True)[0])
feed_case("feed-utf16", "UTF-16 text", quarantined(r"UTF-16"))(
    lambda ws: ws.feed_text().encode("utf-16"))
feed_case("feed-gzip", "a gzip-compressed file named .csv", quarantined(r"gzip-compressed"))(
    lambda ws: gzip.compress(ws.feed_text().encode()))
feed_case("feed-zip", "a zip archive named .csv", quarantined(r"zip archive"))(
    lambda ws: _zip(ws.feed_text().encode()))
feed_case("feed-pdf", "a PDF named .csv", quarantined(r"PDF"))(
    lambda ws: b"%PDF-1.4\n%\xe2\xe3\n")
feed_case("feed-csv-as-xlsx", "a CSV file named .xlsx", quarantined(r"workbook cannot be read"),
          ext="xlsx")(lambda ws: ws.feed_text())
feed_case("feed-nul", "a NUL byte in a value", quarantined(r"NUL byte on line 3"))(
    lambda ws: _feed_edit(ws, lambda h, rows: (h, [rows[0], [rows[1][0] + "\x00", *rows[1][1:]],
                                                    *rows[2:]])))
feed_case("feed-cr-endings", "old Mac line endings", quarantined(r"CR only"))(
    lambda ws: ws.feed_text().replace("\r\n", "\r").replace("\n", "\r"))
feed_case("feed-unclosed-quote", "a quote opened and never closed",
          quarantined(r"line \d+: a quote is opened"))(
    lambda ws: ws.feed_text() + 'CC9999999,"9434765919,Smithson\r\n')
feed_case("feed-long-row", "a row with more fields than the header",
          quarantined(r"line \d+ has \d+ fields, more than"))(
    lambda ws: ws.feed_text() + "CC9999998," + ",".join(["x"] * 30) + "\r\n")
feed_case("feed-short-row", "a row with fewer fields than the header",
          quarantined(r"line \d+ has 3 fields, fewer than"))(
    lambda ws: ws.feed_text() + "CC9999997,9434765919,Smithson\r\n")
feed_case("feed-us-dates", "dates written mm/dd/yyyy throughout",
          quarantined(r"'Activity Start Date' \(required\) is not a date as dd/mm/yyyy"))(
    lambda ws: _feed_edit(ws, lambda h, rows: (h, [
        [("12/31/2025" if c == "Activity Start Date" else v) for c, v in zip(h, r, strict=True)]
        for r in rows])))
feed_case("feed-iso-dates", "dates written yyyy-mm-dd",
          quarantined(r"'Activity Start Date' \(required\) is not a date"))(
    lambda ws: _feed_edit(ws, lambda h, rows: (h, [
        [("2025-06-01" if c == "Activity Start Date" else v) for c, v in zip(h, r, strict=True)]
        for r in rows])))
feed_case("feed-semicolon", "semicolon-separated", quarantined(r"missing column"))(
    lambda ws: ws.feed_text().replace(",", ";"))
feed_case("feed-no-contract", "a file no contract covers (mystery_*.csv)",
          quarantined(r"no feed contract covers"), kind="mystery")(lambda ws: ws.feed_text())
feed_case("feed-formula", "a formula in a surname (=cmd|...)",
          taken(text="read; the formula never reaches a file as a formula"))(
    lambda ws: _feed_edit(ws, lambda h, rows: (h, [
        [("=cmd|' /C calc'!A0" if c == "Carer Surname" else v) for c, v in zip(h, r, strict=True)]
        for r in rows])))
feed_case("feed-huge-field", "a 2 MB value in Outcome", taken(text="read"))(
    lambda ws: _feed_edit(ws, lambda h, rows: (h, [
        [("y" * 2_000_000 if c == "Outcome" else v) for c, v in zip(h, r, strict=True)]
        for r in rows[:1]] + rows[1:])))
feed_case("feed-cp1252", "Windows-1252 text with accents", taken(text="read"))(
    lambda ws: ws.feed_text().replace("King", "Kingé").encode("cp1252"))
feed_case("feed-bom", "UTF-8 with a byte-order mark", taken(text="read"))(
    lambda ws: b"\xef\xbb\xbf" + ws.feed_text().encode())
feed_case("feed-blank-required", "a required value blank on one row",
          taken(text="read; the row left out and listed"))(
    lambda ws: _feed_edit(ws, lambda h, rows: (h, [
        [("" if c == "Activity Type" else v) for c, v in zip(h, r, strict=True)]
        for r in rows[:1]] + rows[1:])))
feed_case("feed-bad-code", "a value outside the allowed list on one row",
          taken(text="read; the value blanked and listed"))(
    lambda ws: _feed_edit(ws, lambda h, rows: (h, [
        [("HOLIDAY" if c == "Support Type" else v) for c, v in zip(h, r, strict=True)]
        for r in rows[:1]] + rows[1:])))
feed_case("feed-header-spaces", "headers with spaces around them", taken(text="read"))(
    lambda ws: _feed_edit(ws, lambda h, rows: ([f" {c} " for c in h], rows)))
feed_case("feed-equipment-dup", "an equipment file with 'Order Number' and 'order number'",
          quarantined(r"'Order Number' and 'order number' differ only"), kind="equipment")(
    lambda ws: _feed_edit_kind(ws, "equipment", _dup_col("Order Number", "order number")))


def _feed_edit_kind(ws, kind, fn) -> str:
    h, rows = _feed_rows(ws, kind)
    return _feed(*fn(h, rows))


# --------------------------------------------------------------------------------------------
# History: damaged or read-only file, locks, two runs at once, kills, a full disk

HIST = "history (cld run quarterly)"


def hist_case(id: str, input: str, expect: Expect, **kw: Any):
    return case(HIST, id, input, expect, tags=("history",), **kw)


def _quarterly(ws, cfg: Path, *extra: str) -> list[str]:
    return ["-c", str(cfg), "run", "quarterly", "--period", ws.council.period, "--build-anyway",
            *extra]  # fmt: skip


def _feedback_run(ws, cfg: Path) -> list[str]:
    """A quick run that takes the run lock and records (taking in the sample's feedback)."""
    return ["-c", str(cfg), "feedback", str(ws.council.feedback)]


def recorded(ws, **replace: str) -> Path:
    """The council's recorded state (history, placed file) copied into this case's folder."""
    return ws.recorded(**replace)


@hist_case("hist-garbage", "the history file overwritten with other data",
           error(r"cannot open the history database.*move it aside"))
def _hist_garbage(ws):
    cfg = recorded(ws)
    ws.history.write_bytes(b"this is not a database\n" * 500)
    return _quarterly(ws, cfg)


@hist_case("hist-truncated", "the history file cut to half its size",
           error(r"history database"))
def _hist_trunc(ws):
    cfg = recorded(ws)
    data = ws.history.read_bytes()
    ws.history.write_bytes(data[: len(data) // 2])
    return _quarterly(ws, cfg)


@hist_case("hist-newer-schema", "a history written by a newer version of the pipeline",
           error(r"newer than this code"))
def _hist_newer(ws):
    import duckdb

    cfg = recorded(ws)
    con = duckdb.connect(str(ws.history))
    con.execute("INSERT INTO schema_version VALUES (999, 'future', now())")
    con.close()
    return _quarterly(ws, cfg)


@hist_case("hist-readonly", "the history on a read-only disk",
           error(r"read-only"), root=True)
def _hist_ro(ws):
    disk = ws.tmpfs("ro", size="16m")
    recorded(ws)
    import shutil

    shutil.copy2(ws.history, disk / "history.duckdb")
    ws.remount_ro(disk)
    cfg = ws.config(paths__history_db=f'"{disk / "history.duckdb"}"')
    return _quarterly(ws, cfg)


@hist_case("hist-lock-empty", "an empty lock file no process holds (left by a full disk)",
           Expect("ran", text="runs: the lock is taken over"))
def _hist_lock_empty(ws):
    cfg = recorded(ws)
    ws.history.with_name(ws.history.name + ".lock").write_bytes(b"")
    return _feedback_run(ws, cfg)


@hist_case("hist-lock-dead-pid", "a lock file naming a process that has ended",
           Expect("ran", text="runs: the lock is taken over"))
def _hist_lock_dead(ws):
    cfg = recorded(ws)
    ws.history.with_name(ws.history.name + ".lock").write_text(
        '{"pid": 999999, "host": "elsewhere", "kind": "build", "started_at": "2026-01-01"}')
    return _feedback_run(ws, cfg)


@hist_case("hist-lock-garbage", "a lock file of garbage", Expect("ran", text="runs"))
def _hist_lock_garbage(ws):
    cfg = recorded(ws)
    ws.history.with_name(ws.history.name + ".lock").write_bytes(b"\x00\xff{{{")
    return _feedback_run(ws, cfg)


@hist_case("hist-two-runs", "a second run while another process has the history open",
           error(r"in use by another process.*try again"))
def _hist_two(ws):
    cfg = recorded(ws)
    ws.hold_history()
    return _quarterly(ws, cfg)


@hist_case("hist-held-lock", "a second run while another run holds the run lock",
           error(r"another build run is in progress \(pid \d+.*wait for it"))
def _hist_held_lock(ws):
    cfg = recorded(ws)
    ws.hold_lock()
    stale = ws.dir / "out" / ".staging-999999-deadbeef"  # left by a killed run (pid gone)
    stale.mkdir()
    (stale / "submission.csv").write_text("x")

    def stale_staging_swept(ws, res) -> None:
        assert not stale.exists(), "a killed run's staging folder was left"
        assert not list((ws.dir / "out").glob(".staging-*"))

    ws.extra["verify"] = stale_staging_swept
    return _quarterly(ws, cfg)


@hist_case("hist-journal-left", "a run killed mid-commit: files moved, history not written",
           Expect("ran", text="the next run (any kind) puts the recorded file back first"))
def _hist_journal(ws):
    cfg = recorded(ws)
    ws.half_placed()
    return _feedback_run(ws, cfg)


for _sig, _marker, _label in [
    ("KILL", "building", "while building"),
    ("KILL", "checking", "while checking"),
    ("KILL", "recording the run in history", "in the first moment of recording"),
    ("TERM", "recording the run in history", "in the first moment of recording"),
    ("INT", "recording the run in history", "in the first moment of recording"),
    ("KILL", "history: run", "just after the commit"),
    ("INT", "history: run", "just after the commit"),
    ("TERM", "history: run", "just after the commit"),
    ("KILL", "comparing", "while comparing"),
    ("KILL", "writing the DQ report", "while writing the report"),
    ("KILL", "writing the team exception lists", "while writing the team lists"),
]:
    def _make(ws, sig=_sig, marker=_marker):
        cfg = recorded(ws)
        return ws.kill_at(_quarterly(ws, cfg), marker, sig)

    _stage = {"building": "build", "checking": "check", "recording the run in history": "record",
              "history: run": "after-commit", "comparing": "compare",
              "writing the DQ report": "report",
              "writing the team exception lists": "team-lists"}[_marker]
    hist_case(f"hist-{_sig.lower()}-{_stage}",
              f"SIG{_sig} {_label}",
              Expect("killed", text={"KILL": "killed: history and the folder agree",
                                     "TERM": "stops with one line; history and the folder agree",
                                     "INT": "stops with one line; history and the folder agree",
                                     }[_sig]),
              child=True)(_make)


@hist_case("hist-disk-full", "the disk holding history full during recording",
           error(r"disk.*full.*free some space"), root=True)
def _hist_full(ws):
    disk = ws.tmpfs("full", size="8m")
    recorded(ws)
    import shutil

    shutil.copy2(ws.history, disk / "history.duckdb")
    filler = ws.fill(disk, leave=64 * 1024)
    cfg = ws.config(paths__history_db=f'"{disk / "history.duckdb"}"')

    def then_free_space_and_run_again(ws, res) -> None:
        from tests.corpus.harness import run_cld

        assert not list((ws.dir / "out").glob("cld_*.csv.*")), "a half-written file was left"
        filler.unlink()
        again = run_cld(_quarterly(ws, cfg))
        assert again.code in (0, 1) and again.traceback is None, again.err
        ws.extra["history_checked_at"] = disk / "history.duckdb"

    ws.extra["verify"] = then_free_space_and_run_again
    return _quarterly(ws, cfg)


# --------------------------------------------------------------------------------------------
# The case-management database (the suite's real PostgreSQL; real unixODBC where it applies)

DB = "case-management database (cld build)"


def db_case(id: str, input: str, expect: Expect, **kw: Any):
    """``make(ws)`` sets up the database and returns the URL (CLD_DATABASE_URL)."""

    def register(make: Callable[[Any], str]):
        def run(ws):
            url = make(ws)
            ws.env["CLD_DATABASE_URL"] = url
            cfg = ws.config(**ws.extra.pop("config", {}))
            return ["-c", str(cfg), "build", "--period", ws.council.period,
                    "--out", str(ws.dir / "b.csv")]  # fmt: skip

        case(DB, id, input, expect, tags=("database",), **kw)(run)
        return make

    return register


db_case("db-driver-missing", "a URL whose driver is not installed (mssql+pymssql)",
        error(r"driver for 'mssql\+pymssql' is not installed"))(
    lambda ws: "mssql+pymssql://cld:s3cret@db.example/mosaic")
db_case("db-unknown-dialect", "a URL naming no known database (mosaic://...)",
        error(r"'mosaic', which is not a database"))(lambda ws: "mosaic://cld:s3cret@db/x")
db_case("db-not-a-url", "a setting that is neither a URL nor an ODBC string",
        error(r"neither a SQLAlchemy URL nor an ODBC"))(lambda ws: "server=db;user=cld")
db_case("db-odbc-no-driver", "an ODBC string naming a driver not installed",
        error(r"ODBC|driver|Data source"))(
    lambda ws: "DRIVER={No Such Driver 99};SERVER=127.0.0.1;DATABASE=x;UID=cld;PWD=s3cret")
db_case("db-unreachable", "a server that does not answer (retried, then given up)",
        error(r"after \d+ attempts.*running and reachable"))(
    lambda ws: f"postgresql+psycopg://cld:s3cret@127.0.0.1:{ws.closed_port()}/x")
db_case("db-no-database", "a database that does not exist",
        error(r"database error|does not exist"))(lambda ws: ws.pg.sqlalchemy_url("nosuchdb"))
db_case("db-unknown-user", "a user the server does not know",
        error(r"database error|role|authentication"))(
    lambda ws: ws.pg.sqlalchemy_url("postgres").replace("postgres@", "nobody@", 1))
db_case("db-empty", "an empty database (the tables missing)",
        error(r"the query failed.*(does not exist|relation)"))(lambda ws: ws.pg_copy(empty=True))
db_case("db-missing-column", "a table without a column the SQL reads (persons.gender_code)",
        error(r"\w+\.sql: the query failed: column \S*gender_code does not exist"))(
    lambda ws: ws.pg_copy("ALTER TABLE persons DROP COLUMN gender_code CASCADE"))
db_case("db-wrong-type", "dates of birth held as text, one not a date (31/01/1950)",
        error(r"\.sql returned values of the wrong type in column\(s\) date_of_birth"))(
    lambda ws: ws.pg_copy(
        "ALTER TABLE persons ALTER COLUMN date_of_birth TYPE text",
        "UPDATE persons SET date_of_birth = '31/01/1950' WHERE person_id = "
        "(SELECT min(person_id) FROM persons)", personal=["31/01/1950"]))
db_case("db-locked", "a table another session holds locked",
        error(r"waited too long for a table another session has locked"))(
    lambda ws: ws.pg_locked("persons"))
db_case("db-odbc-empty", "an empty database reached through real ODBC (psqlODBC)",
        error(r"query failed|does not exist|relation"))(
    lambda ws: ws.pg_copy(empty=True, odbc=True))


# --------------------------------------------------------------------------------------------
# NHS-number matching feedback files (cld feedback), against the council's recorded run

FEEDBACK = "NHS-number feedback file (cld feedback)"


def feedback_case(id: str, input: str, expect: Expect, name: str = "feedback.csv"):
    def register(make: Callable[[Any], bytes | str]):
        def run(ws):
            cfg = ws.recorded()
            data = make(ws)
            path = ws.dir / name
            raw = data.encode("utf-8") if isinstance(data, str) else data
            path.write_bytes(raw)
            ws.extra["feedback_file"] = path
            ws.extra["feedback_bytes"] = raw
            return ["-c", str(cfg), "feedback", str(path)]

        case(FEEDBACK, id, input, expect, tags=("feedback",))(run)
        return make

    return register


def _fb(ws) -> str:
    return ws.council.feedback.read_bytes().decode("utf-8-sig")


feedback_case("fb-empty", "an empty feedback file", error(r"quarantined|empty"))(lambda ws: b"")
feedback_case("fb-header-only", "a header and no rows", error(r"quarantined|no rows|no data"))(
    lambda ws: _fb(ws).splitlines(True)[0])
feedback_case("fb-utf16", "UTF-16 text", error(r"quarantined.*UTF-16|UTF-16"))(
    lambda ws: _fb(ws).encode("utf-16"))
feedback_case("fb-xlsx", "an Excel workbook named .csv", error(r"quarantined.*(Excel|workbook)"))(
    lambda ws: ws.workbook())
feedback_case("fb-pdf", "a PDF named .csv", error(r"quarantined.*PDF"))(
    lambda ws: b"%PDF-1.5\n%\xe2\xe3\n")
feedback_case("fb-missing-column", "the Match_Basis column missing",
              error(r"quarantined.*Match_Basis"))(
    lambda ws: "\n".join(",".join(ln.split(",")[:2] + ln.split(",")[3:])
                         for ln in _fb(ws).splitlines()) + "\n")
feedback_case("fb-semicolon", "semicolon-separated", error(r"quarantined"))(
    lambda ws: _fb(ws).replace(",", ";"))
feedback_case("fb-unclosed-quote", "a quote opened and never closed", error(r"quarantined"))(
    lambda ws: _fb(ws) + '100002,"9434765919,NAME_DOB\n')
feedback_case("fb-nul", "NUL bytes in the file", error(r"quarantined.*NUL"))(
    lambda ws: _fb(ws).replace("NAME_DOB_POSTCODE", "NAME\x00DOB", 1))


@case(FEEDBACK, "fb-folder", "a folder instead of a file", error(r"is a folder"))
def _fb_folder(ws):
    cfg = ws.recorded()
    (ws.dir / "inbox").mkdir()
    return ["-c", str(cfg), "feedback", str(ws.dir / "inbox")]


@case(FEEDBACK, "fb-missing", "a file that does not exist", error(r"not found"))
def _fb_missing(ws):
    cfg = ws.recorded()
    return ["-c", str(cfg), "feedback", str(ws.dir / "nope.csv")]


@case(CONFIG, "cfg-output-readonly", "[paths] output_dir on a read-only disk (cld run)",
      error(r"[Rr]ead-only"), root=True)
def _cfg_out_ro(ws):
    disk = ws.tmpfs("rodisk", size="1m")
    ws.remount_ro(disk)
    cfg = ws.config(paths__output_dir=f'"{disk / "out"}"',
                    paths__history_db=f'"{ws.dir / "h.duckdb"}"')
    return ["-c", str(cfg), "run", "quarterly", "--period", ws.council.period, "--build-anyway"]


@case(CLD, "cld-out-readonly", "cld check --out a folder on a read-only disk",
      error(r"[Rr]ead-only"), root=True)
def _cld_out_ro(ws):
    disk = ws.tmpfs("rodisk", size="1m")
    ws.remount_ro(disk)
    args = check(ws, ws.base_cld)
    return [*args[:-1], str(disk / "o")]
