"""The README's Prefect block, read from README.md itself and run as written by bash (no job
control, as in a script): standing server, work pool, deploy, worker, a triggered quarterly
run watched to the end, the worker stopped by ``kill`` (SIGTERM).

Only what must differ on a test machine is changed: a free loopback port for 4200, the venv's
path for ``.venv/bin/``, and an environment with a temporary PREFECT_HOME and CLD_CONFIG
pointing at a test council (so nothing is written into the project folder).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from pipelines.config import load_config
from pipelines.history import History
from tests.flows.conftest import (
    PROJECT_ROOT,
    VENV_BIN,
    PrefectServer,
    free_port,
    make_council,
)

README = PROJECT_ROOT / "README.md"


def readme_prefect_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Scheduling with Prefect") :]
    match = re.search(r"```bash\n(.*?)```", section, re.S)
    assert match, "no bash block under 'Scheduling with Prefect'"
    return match.group(1)


def test_the_block_sets_the_api_url_before_any_prefect_command() -> None:
    lines = [ln.split("#")[0].strip() for ln in readme_prefect_block().splitlines()]
    lines = [ln for ln in lines if ln]
    assert lines[0].startswith("export PREFECT_API_URL=http://127.0.0.1:4200/api")
    assert any("deployment run" in ln and "--param period=" in ln for ln in lines)
    assert lines[-2].startswith("kill %2") and "wait %2" in lines[-2]  # the worker, then
    assert lines[-1].startswith("kill %1") and "wait %1" in lines[-1]  # the server (usertest P17)


@pytest.mark.slow
def test_readme_prefect_block_runs_as_written(tmp_path: Path) -> None:
    council = make_council(tmp_path / "council")
    port = free_port()
    block = readme_prefect_block().replace("4200", str(port)).replace(".venv/bin/", f"{VENV_BIN}/")
    # The block as written (it stops the worker, then the server), timing the worker's stop.
    lines = block.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("kill %2"))
    lines[at : at + 1] = ["t=$SECONDS", lines[at], 'echo "worker stopped after $((SECONDS - t)) s"']
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
    env = {
        k: v
        for k, v in PrefectServer(home=tmp_path / "prefect", port=port).env().items()
        if k != "PREFECT_API_URL"  # the block sets it
    }
    env.update(CLD_CONFIG=str(council.config), PREFECT_LOGGING_TO_API_ENABLED="false")
    (tmp_path / "prefect").mkdir()
    proc = subprocess.Popen(
        ["bash", "-c", script], cwd=PROJECT_ROOT, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=420)
    finally:
        # anything the block left behind (only this test's process group)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, out[-4000:]
    import socket

    with socket.socket() as probe:  # the block's last line stopped the server: nothing listens
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the Prefect server is still running"
    assert "Flow run finished successfully in 'Completed'" in out, out[-4000:]
    assert "Traceback" not in out, out[-6000:]
    stopped = re.search(r"worker stopped after (\d+) s", out)
    assert stopped and int(stopped.group(1)) <= 30, out[-2000:]

    cfg = load_config(council.config)
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        runs = h.runs().to_dicts()
    assert [(r["kind"], r["period"], r["status"]) for r in runs] == [("build", "2025-26Q4", "ok")]
    assert (council.folder / "out" / "cld_999_2025-26Q4_R2.csv").is_file()
