#!/usr/bin/env bash
# Install what the tests need and run the whole suite (the README's test command).
# - Debian packages: unixODBC and the PostgreSQL ODBC driver (the PostgreSQL server binaries
#   are expected on the machine: Debian's postgresql-15; the suite starts its own server).
# - A virtualenv in .venv with the project and its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
dpkg -s unixodbc >/dev/null 2>&1 || need_apt+=(unixodbc unixodbc-dev)
dpkg -s odbc-postgresql >/dev/null 2>&1 || need_apt+=(odbc-postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)  # DQ report rendering test
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need_apt+=(postgresql)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "== installing Debian packages: ${need_apt[*]} (apt-get, about a minute; Chromium is the largest)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
ROOT=$(pwd)
# Is the project installed in .venv, not merely importable from this folder? `-I` run from /
# leaves out the current folder and PYTHON* settings, so a new, empty .venv answers no.
installed() {
  (cd / && "$ROOT/.venv/bin/python" -I -c 'import importlib.util as u, sys
sys.exit(any(u.find_spec(m) is None for m in sys.argv[1:]))' "$@") 2>/dev/null
}
if [ -x .venv/bin/cld ] && installed pipelines polars prefect pytest aiosmtpd psycopg; then
  echo "== checking the project's packages in .venv (a few seconds)"
else
  echo "== installing the project with its test extras into .venv: about 140 Python packages"
  echo "   (~1.1 GB: polars, DuckDB, Great Expectations, Prefect, psycopg, pytest, ...)."
  echo "   This takes 1-4 minutes and prints nothing until it is done."
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -c 'import pipelines, cld_schema, checks, flows' 

echo "== ruff"
.venv/bin/ruff check .
echo "== pytest: the whole suite (it starts PostgreSQL, SMTP and Prefect servers on loopback; 4-15 minutes)"
exec .venv/bin/pytest "$@"
