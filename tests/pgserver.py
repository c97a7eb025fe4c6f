"""A throwaway PostgreSQL server for tests and benchmarks (Debian's postgresql-15 binaries).

The suite starts a real server on a free loopback port in a temporary data directory and stops
it at the end. When run as root (CI), the server runs as the ``postgres`` user, because
PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    hits = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not hits:
        raise RuntimeError(f"PostgreSQL binary {name!r} not found (install Debian's postgresql)")
    return hits[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    datadir: Path
    port: int
    user: str = "postgres"
    host: str = "127.0.0.1"
    _as_root: bool = False

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True)

    @classmethod
    def start(cls) -> PgServer:
        as_root = os.geteuid() == 0
        base = Path(tempfile.mkdtemp(prefix="cld-pg-"))
        datadir = base / "data"
        server = cls(datadir=datadir, port=_free_port(), _as_root=as_root)
        if as_root:
            shutil.chown(base, "postgres", "postgres")
            os.chmod(base, 0o700)
        server._run(
            _bin("initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={server.port} "
            f"-c unix_socket_directories={base} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=50"
        )
        server._run(
            _bin("pg_ctl"),
            "-D",
            str(datadir),
            "-o",
            opts,
            "-l",
            str(base / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((server.host, server.port), timeout=1):
                    return server
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("PostgreSQL did not start listening")

    def stop(self) -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.datadir), "-m", "fast", "stop", check=False)
        shutil.rmtree(self.datadir.parent, ignore_errors=True)

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url_psycopg("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')

    def url_psycopg(self, db: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{db}"

    def sqlalchemy_url(self, db: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{db}"

    def odbc_connection_string(self, db: str = "postgres") -> str:
        return (
            "DRIVER={PostgreSQL Unicode};"
            f"SERVER={self.host};PORT={self.port};DATABASE={db};UID={self.user};PWD=;"
        )

    def odbc_sqlalchemy_url(self, db: str = "postgres") -> str:
        """A SQLAlchemy URL that reaches PostgreSQL through unixODBC (pyodbc)."""
        from urllib.parse import quote_plus

        return "postgresql+pyodbc:///?odbc_connect=" + quote_plus(self.odbc_connection_string(db))
