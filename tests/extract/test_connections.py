"""``[source] connections``: how many connections the extract opens on PostgreSQL, counted by
the suite's real server itself (``log_connections``), so a council whose login may hold only
one connection can say so; the same tables either way; a value out of range is one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from pipelines.build import extract_with
from pipelines.config import load_config
from pipelines.period import Period
from pipelines.sample import generate

ROOT = Path(__file__).resolve().parents[2]
PERIOD = Period.parse("2025-26Q4")


def _config(tmp_path: Path, connections: int | None) -> Path:
    line = "" if connections is None else f"connections = {connections}\n"
    path = tmp_path / f"cld_{connections}.toml"
    path.write_text(
        f'[council]\nla_code = "999"\n[paths]\nsql_dir = "{ROOT / "sql"}"\n[source]\n{line}',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def counted(pg_server, tmp_path_factory):
    """The sample council in its own database, with the server logging each connection."""
    pg_server.create_database("conns")
    generate(pg_server.sqlalchemy_url("conns"), people=200, seed=4, defects=0,
             out_dir=tmp_path_factory.mktemp("conns_sample"))
    with psycopg.connect(pg_server.url_psycopg(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET log_connections = on")
        conn.execute("SELECT pg_reload_conf()")
    log = pg_server.datadir.parent / "log"
    yield pg_server, log
    with psycopg.connect(pg_server.url_psycopg(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM RESET log_connections")
        conn.execute("SELECT pg_reload_conf()")


def _opened(log: Path, app: str) -> int:
    return sum(1 for line in log.read_text(errors="replace").splitlines()
               if "connection authorized" in line and f"application_name={app}" in line)


def test_the_extract_opens_as_many_connections_as_the_config_says(counted, tmp_path) -> None:
    server, log = counted
    frames = {}
    for n in (1, 3, None):  # None: the default, 3
        cfg = load_config(_config(tmp_path, n))
        app = f"cld_conns_{n}"
        url = server.sqlalchemy_url("conns") + f"?application_name={app}"
        frames[n] = extract_with(cfg, url, PERIOD)
        assert _opened(log, app) == (1 if n == 1 else 3), (n, _opened(log, app))
    for name, frame in frames[1].items():  # one snapshot or three: the same rows
        assert frame.sort(frame.columns).equals(frames[3][name].sort(frame.columns)), name


def test_connections_out_of_range_is_one_line(tmp_path: Path) -> None:
    cfg = _config(tmp_path, 0)
    cld = Path(sys.executable).with_name("cld")
    p = subprocess.run([str(cld), "--config", str(cfg), "build", "--period", "2025-26Q4"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and "connections" in p.stderr, p.stderr
