"""``cld check`` over several councils' files: a folder or a glob, each file's findings apart,
a line per file and one summary across all."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from checks import run_checks
from pipelines.cli import app
from tests.checks.conftest import frame_of

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def _write(spec, path, rows, la_code):
    frame = frame_of(spec, rows).drop("_row").with_columns(pl.lit(la_code).alias("LA_Code"))
    frame = frame.rename(dict(zip(spec.field_names, spec.headers("label"), strict=True)))
    path.write_bytes(frame.write_csv().encode("cp1252"))


def test_folder_of_councils_checked_each_apart(tmp_path, spec_r1, caplog):
    folder = tmp_path / "returns"
    folder.mkdir()
    clean = [{}, {"LA_Person_Unique_Identifier": "P2", "NHS_Number": "4010232137",
                  "Event_Reference": "E2"}]  # fmt: skip
    _write(spec_r1, folder / "cld_101.csv", clean, "101")
    _write(spec_r1, folder / "cld_102.csv", [{}, {"NHS_Number": "9434765918", "Gender": "Bloke",
                                                  "LA_Person_Unique_Identifier": "P2"}], "102")  # fmt: skip
    (folder / "cld_103.csv").write_text("not,a,cld,file\n1,2,3,4\n", encoding="utf-8")
    (folder / "notes.txt").write_text("ignored", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["check", str(folder), "--out", str(out), "--no-docs"])
    assert res.exit_code == 1, res.output
    # (two-row files fail the sample thresholds' complete-months expectations: not ready)
    assert "[1/3] cld_101.csv: NOT ready (LA 101, R1, 2 rows)" in res.output
    assert "[2/3] cld_102.csv: NOT ready (LA 102, R1, 2 rows)" in res.output
    assert "[3/3] cld_103.csv: NOT CHECKED" in res.output
    assert ("all files: 3 given, 2 checked, 0 ready to submit, 1 not checked (unreadable) - "
            "4 rows") in res.output
    assert "not checked (not .csv or .csv.gz): notes.txt" in caplog.text  # said, on stderr
    assert "9434765918" not in res.output
    summary = pl.read_csv(out / "summary.csv")
    assert summary["file"].to_list() == ["cld_101.csv", "cld_102.csv", "cld_103.csv"]
    assert summary["status"].to_list() == ["not ready", "not ready", "unreadable"]
    # each council's findings are its own, the same as checking its file alone
    f101 = pl.read_parquet(out / "cld_101" / "findings.parquet")
    f102 = pl.read_parquet(out / "cld_102" / "findings.parquet")
    rows_101 = f101.filter(pl.col("category") != "quantitative")
    assert rows_101.filter(pl.col("severity") == "error").height == 0
    alone = run_checks(frame_of(spec_r1, [{}, {"NHS_Number": "9434765918", "Gender": "Bloke",
                                               "LA_Person_Unique_Identifier": "P2"}]),
                       spec_r1, quantitative=False).findings  # fmt: skip
    errs = {"FLD_NHS_Number_mod11", "FLD_Gender_list"}
    assert errs <= set(f102["rule_id"])
    assert sorted(f102.filter(pl.col("category") != "quantitative")["rule_id"]) == sorted(
        alone["rule_id"]
    )
    assert summary.filter(pl.col("file") == "cld_102.csv")["errors"].item() == f102.filter(
        pl.col("severity") == "error"
    ).height
    assert (out / "cld_101" / "national_dq.csv").exists()


def test_glob_pattern_and_no_match(tmp_path, spec_r1):
    for code in ("201", "202"):
        _write(spec_r1, tmp_path / f"cld_{code}.csv", [{}], code)
    out = tmp_path / "out"
    res = runner.invoke(app, ["check", str(tmp_path / "cld_2*.csv"), "--out", str(out),
                              "--no-docs"])  # fmt: skip
    assert "all files: 2 given, 2 checked" in res.output, res.output
    assert sorted(p.name for p in out.iterdir()) == ["cld_201", "cld_202", "summary.csv"]
    res = runner.invoke(app, ["check", str(tmp_path / "nothing*.csv")])
    assert res.exit_code != 0 and "no file matches" in str(res.exception or res.output)


def test_files_of_one_name_get_findings_folders_of_their_own(tmp_path, spec_r1):
    """Two councils' files both called return.csv (from two folders), and x.csv beside
    x.csv.gz: each file's findings in a folder of its own, never one over the other."""
    import gzip

    def rows(n):
        return [{"LA_Person_Unique_Identifier": f"P{i}", "Event_Reference": f"E{i}"}
                for i in range(n)]

    for sub, code, n in (("a", "301", 1), ("b", "302", 2)):
        (tmp_path / sub).mkdir()
        _write(spec_r1, tmp_path / sub / "return.csv", rows(n), code)
    _write(spec_r1, tmp_path / "x.csv", rows(3), "303")
    _write(spec_r1, tmp_path / "y.csv", rows(4), "304")
    (tmp_path / "x.csv.gz").write_bytes(gzip.compress((tmp_path / "y.csv").read_bytes()))
    out = tmp_path / "out"
    files = [tmp_path / "a" / "return.csv", tmp_path / "b" / "return.csv",
             tmp_path / "x.csv", tmp_path / "x.csv.gz"]
    res = runner.invoke(app, ["check", *map(str, files), "--out", str(out), "--no-docs"])
    assert "all files: 4 given, 4 checked" in res.output, res.output
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [
        "a_return.csv", "b_return.csv", "x.csv", "x.csv.gz"]
    summary = pl.read_csv(out / "summary.csv", infer_schema=False)
    assert summary["la_code"].to_list() == ["301", "302", "303", "304"]
    # the folder each line names holds that file's own checks (its own count of rows)
    for folder, n in zip(summary["findings"], summary["rows"], strict=True):
        national = pl.read_csv(Path(folder) / "national_dq.csv")
        assert national["cells"].max() == int(n), folder


def test_a_file_now_unreadable_leaves_no_findings_of_its_last_check(tmp_path, spec_r1):
    folder = tmp_path / "returns"
    folder.mkdir()
    for code in ("401", "402"):
        _write(spec_r1, folder / f"cld_{code}.csv", [{}], code)
    out = tmp_path / "out"
    first = runner.invoke(app, ["check", str(folder), "--out", str(out), "--no-docs"])
    assert (out / "cld_402" / "findings.parquet").exists(), first.output
    (folder / "cld_402.csv").write_text("not,a,cld,file\n1,2,3,4\n", encoding="utf-8")
    again = runner.invoke(app, ["check", str(folder), "--out", str(out), "--no-docs"])
    assert "cld_402.csv: NOT CHECKED" in again.output
    assert not any((out / "cld_402").glob("*.parquet"))  # not the old findings
    assert not (out / "cld_402" / "national_dq.csv").exists()
    assert (out / "cld_401" / "findings.parquet").exists()


def test_recorded_checks_of_other_councils_say_whose_they_are(tmp_path, spec_r1):
    """A regional hub's --record: each history run names its file, and the report of one
    is headed by that file's council, not by the hub's config's name."""
    cfg = tmp_path / "cld.toml"
    cfg.write_text(f'[council]\nla_code = "999"\nname = "The hub"\n[paths]\n'
                   f'output_dir = "{tmp_path / "out"}"\nhistory_db = "{tmp_path / "h.duckdb"}"\n'
                   f'[checks]\nthresholds = "{ROOT / "data" / "sample" / "thresholds.yaml"}"\n',
                   encoding="utf-8")
    folder = tmp_path / "returns"
    folder.mkdir()
    for code in ("501", "502"):
        _write(spec_r1, folder / f"cld_{code}.csv", [{}], code)
    res = runner.invoke(app, ["--config", str(cfg), "check", str(folder), "--record",
                              "--no-docs", "--out", str(tmp_path / "o")])
    assert "history runs: 1 (cld_501.csv), 2 (cld_502.csv)" in res.output, res.output
    runs_out = runner.invoke(app, ["--config", str(cfg), "history", "runs"])
    assert "cld_501.csv" in runs_out.output and "cld_502.csv" in runs_out.output
    report = tmp_path / "r.html"
    made = runner.invoke(app, ["--config", str(cfg), "report", "--run", "2", "--out",
                               str(report)])
    assert made.exit_code == 0, made.output
    html = report.read_text(encoding="utf-8")
    assert "Council: <b>LA 502, cld_502.csv</b>" in html and "The hub" not in html
