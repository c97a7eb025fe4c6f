"""The flows run for real under ``prefect_test_harness`` (temporary server and database,
isolated PREFECT_HOME); what they leave in Prefect is read back through its API."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from pipelines.config import load_config
from pipelines.period import Period
from tests.flows.conftest import Api, Council, assert_no_nhs_number, make_council, write_config

pytestmark = pytest.mark.usefixtures("prefect_harness")


def api() -> Api:
    from prefect.settings import PREFECT_API_URL

    return Api(PREFECT_API_URL.value())


def run_id_of(state) -> str:
    return str(state.state_details.flow_run_id)


def test_preflight_passes_and_fails_visibly(tmp_path: Path) -> None:
    from flows.preflight import preflight

    db = tmp_path / "council.db"
    sqlite3.connect(db).close()
    cfg = write_config(tmp_path / "ok", sample_db=db)
    state = preflight(config=str(cfg), return_state=True)
    assert state.is_completed()
    result = state.result()
    assert result["database"] == "sqlite" and all(result["folders"].values())
    keys = {a["key"] for a in api().artifacts(run_id_of(state))}
    assert keys == {"preflight"}

    bad = write_config(tmp_path / "bad", sample_db=tmp_path / "missing" / "council.db")
    state = preflight(config=str(bad), return_state=True)
    assert state.is_failed()


def test_missing_secrets_come_from_prefect_secret_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.blocks.system import Secret

    from flows.common import secrets_from_blocks

    monkeypatch.delenv("CLD_DATABASE_URL", raising=False)
    monkeypatch.setenv("CLD_SMTP_PASSWORD", "from-env")
    Secret(value="sqlite:///from-block.db").save("cld-database-url", overwrite=True)
    Secret(value="from-block").save("cld-smtp-password", overwrite=True)
    try:
        assert secrets_from_blocks() == ["CLD_DATABASE_URL"]
        assert os.environ["CLD_DATABASE_URL"] == "sqlite:///from-block.db"
        assert os.environ["CLD_SMTP_PASSWORD"] == "from-env"  # the environment wins
    finally:
        # secrets_from_blocks set it directly: remove it (monkeypatch would restore it on undo)
        os.environ.pop("CLD_DATABASE_URL", None)
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            for name in ("cld-database-url", "cld-smtp-password"):
                client.delete_block_document(Secret.load(name)._block_document_id)


# -- the quarterly submission on the sample council -------------------------------------------


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Council:
    return make_council(tmp_path_factory.mktemp("council"))


def leaves_no_personal_data(run_id: str, council: Council) -> None:
    """Nothing the run left in Prefect (artefacts, logs, result) names an NHS number."""
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    a = api()
    artefacts = a.artifacts(run_id)
    assert artefacts, "the run left no artefacts"
    logs = a.logs(run_id)
    assert logs, "no logs reached the API"
    texts = [json.dumps(x["data"]) for x in artefacts] + logs
    texts.append(json.dumps(a.flow_run(run_id)))
    assert_no_nhs_number(texts, council)


def history_runs(council: Council) -> list[dict]:
    from pipelines.history import History

    cfg = load_config(council.config)
    path = cfg.path(cfg.paths.history_db)
    if not path.exists():
        return []
    with History.open(path) as h:
        return h.runs().to_dicts()


def output_files(council: Council) -> list[Path]:
    out = council.folder / "out"
    return sorted(p for p in out.glob("cld_*.csv*")) if out.exists() else []


def test_dry_run_builds_and_checks_but_keeps_nothing(council: Council) -> None:
    from flows.quarterly import quarterly_submission

    state = quarterly_submission(
        period=council.period, dry_run=True, config=str(council.config), return_state=True
    )
    assert state.is_completed(), state.message
    result = state.result()
    assert result["rows"] > 0 and result["run_id"] is None and result["submission"] is None
    assert history_runs(council) == [] and output_files(council) == []
    assert not list((council.folder / "out").glob(".staging-*"))
    leaves_no_personal_data(run_id_of(state), council)


def test_errors_block_the_submission_visibly_but_the_run_is_kept(council: Council) -> None:
    from flows.quarterly import quarterly_submission

    state = quarterly_submission(
        period=council.period, config=str(council.config), return_state=True
    )
    assert state.is_failed()
    assert "block the" in state.message and "errors" in state.message
    assert len(state.message.splitlines()) == 1
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    logs = api().logs(run_id_of(state))
    assert any("block the" in m for m in logs)
    assert not [m for m in logs if "Traceback" in m], "a blocked submission is not a crash"
    runs = history_runs(council)
    assert [(r["kind"], r["period"], r["status"]) for r in runs] == [
        ("build", council.period, "ok")
    ]
    assert runs[0]["findings"] > 0
    assert output_files(council) == [], "a blocked file must not reach the output folder"
    keys = {a["key"] for a in api().artifacts(run_id_of(state))}
    assert f"quarterly-{council.period.lower()}" in keys
    leaves_no_personal_data(run_id_of(state), council)


def test_build_anyway_writes_the_file_and_compares_with_the_previous(council: Council) -> None:
    from flows.quarterly import quarterly_submission

    state = quarterly_submission(
        period=council.period, build_anyway=True, config=str(council.config), return_state=True
    )
    assert state.is_completed(), state.message
    result = state.result()
    path = Path(result["submission"])
    assert path.is_file() and path in output_files(council)
    assert path.with_name(path.name.replace(".csv", ".summary.json")).is_file()
    runs = history_runs(council)
    assert len(runs) == 2 and runs[-1]["id"] == result["run_id"]
    from pipelines.history import History

    cfg = load_config(council.config)
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        subs = h.submissions().to_dicts()
    assert [s["id"] for s in subs][-1] == result["submission_id"]
    assert subs[-1]["path"] == str(path) and subs[-1]["rows"] == result["rows"]
    keys = {a["key"] for a in api().artifacts(run_id_of(state))}
    assert f"comparison-{result['submission_id']}" in keys
    reports = council.folder / "out" / "reports"
    assert list(reports.glob("compare_run*/compare_*_events.csv"))
    report = next(reports.glob(f"dq_report_*_quarterly_run{result['run_id']}.html"))
    assert list((council.folder / "out" / "exceptions" / f"run{result['run_id']}").glob("*.xlsx"))
    assert report.is_file() and "<html" in report.read_text(encoding="utf-8").lower()
    leaves_no_personal_data(run_id_of(state), council)


# -- nightly DQ, NHS-number feedback, many councils -------------------------------------------


def test_nightly_checks_records_and_delivers_every_team_list(council: Council) -> None:
    from flows.nightly import nightly_dq

    state = nightly_dq(config=str(council.config), today=council.today, return_state=True)
    assert state.is_completed(), state.message
    result = state.result()
    runs = history_runs(council)
    assert runs[-1]["id"] == result["run_id"] and runs[-1]["kind"] == "nightly"
    assert runs[-1]["submissions"] == 0, "the nightly build is not kept as a submission"
    assert result["teams"] > 0 and result["delivered"] == result["teams"]
    delivered = list((council.folder / "out" / "exceptions").glob("*/*.xlsx"))
    assert len(delivered) >= result["teams"]
    assert list((council.folder / "out" / "exceptions").glob("run*/delivery_report.csv"))
    leaves_no_personal_data(run_id_of(state), council)


def nhs_number(stem: int) -> str:
    """A valid (Modulus 11) NHS number from a 9-digit stem."""
    for s in range(stem, stem + 100):
        digits = [int(c) for c in f"{s:09d}"]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return "".join(map(str, digits)) + str(check)
    raise AssertionError("no valid number near the stem")


def test_feedback_inbox_takes_in_good_files_and_fails_on_a_malformed_one(
    council: Council,
) -> None:
    from flows.feedback import nhs_number_feedback
    from pipelines.history import History

    cfg = load_config(council.config)
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        sub = h.latest_submission()
        people = h.submission_frame(sub.id)["LA_Person_Unique_Identifier"].unique().sort()
    found = {pid: nhs_number(900_000_000 + 37 * i) for i, pid in enumerate(people)}
    inbox = council.folder / "inbox"
    inbox.mkdir()
    rows = [f"{pid},{n},NAME_DOB_POSTCODE,01/02/2025" for pid, n in found.items()]
    header = "LA_Person_ID,NHS_Number_Found,Match_Basis,Traced_On\n"
    (inbox / "feedback_2025-02.csv").write_text(header + "\n".join(rows) + "\n", "utf-8")
    (inbox / "feedback_broken.csv").write_text("Person,Number\nP1,123\n", "utf-8")

    state = nhs_number_feedback(path=str(inbox), config=str(council.config), return_state=True)
    assert state.is_failed() and "feedback_broken.csv" in state.message
    assert (inbox / "processed" / "feedback_2025-02.csv").is_file()
    assert not list(inbox.glob("*.csv")), "every file left the inbox"
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        assert h.open_feedback().height > 0
    council.nhs_numbers.extend(found.values())
    leaves_no_personal_data(run_id_of(state), council)


def test_feedback_checked_against_the_case_database(council: Council, tmp_path: Path) -> None:
    """case_db: person ids and teams come from the case-management database (as `cld
    feedback --case-db` takes them, through the same runs.feedback_step), so a council with
    no submission in history yet can take its feedback in; without it the run fails saying
    history holds no submission."""
    import shutil

    from flows.feedback import nhs_number_feedback
    from pipelines.history import History

    source = next(council.feedback_dir.glob("*.csv"))
    for case_db in (False, True):
        folder = tmp_path / f"case_db_{case_db}"
        cfg_path = write_config(folder, sample_db=council.db)
        feedback = shutil.copy(source, folder / source.name)
        state = nhs_number_feedback(path=str(feedback), config=str(cfg_path), case_db=case_db,
                                    period=council.period, return_state=True)
        cfg = load_config(cfg_path)
        if not case_db:
            assert state.is_failed() and "holds no submission" in state.message
            continue
        assert state.is_completed(), state.message
        (taken,) = state.result()["files"]
        assert taken["status"] == "taken in" and taken["items"] > 0, taken
        with History.open(cfg.path(cfg.paths.history_db)) as h:
            items = h.feedback_items()
        assert items.height == taken["items"]
        assert items["action_needed"].sum() == taken["action needed"]
        assert items["team_id"].null_count() == 0  # every person routed by current allocation
        leaves_no_personal_data(run_id_of(state), council)


def test_check_file_flow_checks_a_folder_each_file_apart(tmp_path: Path) -> None:
    """A folder through the check-file flow (runs.check_file, two worker processes): each
    file into its own folder and its own history run of kind check, summary.csv across all,
    an unreadable file noted and not recorded; not ready, so the run fails in one line."""
    import polars as pl

    from cld_schema import load_spec
    from flows.check_file import check_file
    from pipelines.history import History
    from tests.checks.conftest import frame_of

    spec = load_spec("R1")
    folder = tmp_path / "returns"
    folder.mkdir()
    for code in ("101", "102"):
        frame = frame_of(spec, [{}]).drop("_row").with_columns(pl.lit(code).alias("LA_Code"))
        frame = frame.rename(dict(zip(spec.field_names, spec.headers("label"), strict=True)))
        (folder / f"cld_{code}.csv").write_bytes(frame.write_csv().encode("cp1252"))
    (folder / "cld_103.csv").write_text("not,a,cld,file\n1,2,3,4\n", encoding="utf-8")
    db = tmp_path / "council.db"
    sqlite3.connect(db).close()
    cfg_path = write_config(tmp_path / "council", sample_db=db)
    state = check_file(path=str(folder), config=str(cfg_path), docs=False, jobs=2,
                       return_state=True)
    assert state.is_failed() and "3 of 3 file(s) not ready" in state.message, state.message
    cfg = load_config(cfg_path)
    base = cfg.path(cfg.paths.output_dir) / "checks"
    summary = pl.read_csv(base / "summary.csv")
    assert summary["status"].to_list() == ["not ready", "not ready", "unreadable"]
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        recorded = h.runs()
        kept = {r["source"]: r["findings"] for r in recorded.iter_rows(named=True)}
    assert recorded["kind"].to_list() == ["check", "check"]
    for code in ("101", "102"):
        findings = pl.read_parquet(base / f"cld_{code}" / "findings.parquet")
        assert kept[f"file cld_{code}.csv"] == findings.height > 0
    keys = {a["key"] for a in api().artifacts(run_id_of(state))}
    assert "check-returns" in keys


def test_many_councils_fan_out_on_a_dask_cluster(
    council: Council, tmp_path: Path, dask_cluster
) -> None:
    """The flow's DaskTaskRunner(address=...) sends each council to the worker processes of a
    running cluster; a council that fails does not stop the others, each keeps its own
    history and outputs, and the run fails at the end naming it."""
    from prefect_dask import DaskTaskRunner

    from flows.multi import all_councils_quarterly

    other = make_council(tmp_path / "other", la_code="998")
    broken = write_config(tmp_path / "broken", sample_db=tmp_path / "missing" / "council.db")
    before = len(history_runs(council))
    runner = DaskTaskRunner(address=dask_cluster.address)
    state = all_councils_quarterly.with_options(task_runner=runner)(
        configs=[str(council.config), str(broken), str(other.config)],
        period=council.period,
        build_anyway=True,
        return_state=True,
    )
    a = api()
    rows = next(
        json.loads(x["data"]) if isinstance(x["data"], str) else x["data"]
        for x in a.artifacts(run_id_of(state))
        if x["type"] == "table" and x["key"].startswith("all-councils")
    )
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"], rows
    assert state.is_failed() and "1 council(s) failed" in state.message
    assert str(broken) in state.message and str(other.config) not in state.message
    assert len(history_runs(council)) == before + 1 and len(history_runs(other)) == 1
    release = Period.parse(other.period).default_release
    assert [p.name for p in output_files(other)] == [f"cld_998_{other.period}_{release}.csv"]
    assert all(p.name.startswith("cld_999_") for p in output_files(council))
    assert not list((tmp_path / "broken").rglob("cld_*.csv*")), "the broken council wrote nothing"
    # the two councils ran on the cluster's worker processes, not in this process
    workers = {r["worker"] for r in rows if r["status"] == "ok"}
    assert workers and workers <= set(dask_cluster.workers), workers
    tasks = a.task_runs(run_id_of(state))
    assert sum(t["name"].startswith("council quarterly") for t in tasks) == 3
    leaves_no_personal_data(run_id_of(state), council)
    leaves_no_personal_data(run_id_of(state), other)


def test_a_run_that_cannot_be_recorded_leaves_the_output_folder_as_it_was(
    council: Council,
) -> None:
    """History refuses the run (another run holds it): the file already there stays."""
    from flows.quarterly import quarterly_submission
    from pipelines.history import History

    [before] = output_files(council)
    inode, runs = before.stat().st_ino, len(history_runs(council))
    cfg = load_config(council.config)
    with History.open(cfg.path(cfg.paths.history_db)) as h, h.run("check"):
        state = quarterly_submission(
            period=council.period,
            build_anyway=True,
            config=str(council.config),
            return_state=True,
        )
    assert state.is_failed() and "progress" in state.message
    [after] = output_files(council)
    assert after == before and after.stat().st_ino == inode, "the earlier file is back"
    assert len(history_runs(council)) == runs + 1  # only the run that held the history


def test_cqc_pack_on_demand_writes_the_pack_and_keeps_people_out_of_prefect(
    council: Council, tmp_path: Path
) -> None:
    from flows.cqc import cqc_pack

    state = cqc_pack(config=str(council.config), period=council.period, seed=3,
                     out=str(tmp_path / "pack"), return_state=True)
    assert state.is_completed(), state.message
    result = state.result()
    assert Path(result["workbook"]).exists() and result["cases"] == 50
    assert set(result["figures"]) >= {"W1", "T1", "R1", "C5"}
    assert len(list((tmp_path / "pack" / "cases").glob("case_*.html"))) == 50
    leaves_no_personal_data(run_id_of(state), council)
