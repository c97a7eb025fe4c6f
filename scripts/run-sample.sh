#!/usr/bin/env bash
# The README's first command: install the project, make the synthetic sample council (first run
# only) and run its whole quarterly job (build, checks, history, comparison, DQ report, team
# exception lists). Extra arguments go to `cld quickstart` (e.g. --period 2025-26Q2).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# Is the project installed in .venv, not merely importable from this folder? `-I` run from /
# leaves out the current folder and PYTHON* settings, so a new, empty .venv answers no.
installed() {
  (cd / && "$ROOT/.venv/bin/python" -I -c 'import importlib.util as u, sys
sys.exit(any(u.find_spec(m) is None for m in sys.argv[1:]))' "$@") 2>/dev/null
}
if [ -x .venv/bin/cld ] && installed pipelines polars duckdb prefect great_expectations; then
  echo "== checking the project's packages in .venv (a few seconds)"
else
  echo "== installing the project into .venv: about 130 Python packages (~1.1 GB: polars, DuckDB,"
  echo "   Great Expectations, Prefect, SQLAlchemy, pyarrow, ...). This takes 1-4 minutes and prints"
  echo "   nothing until it is done; later runs take seconds."
fi
.venv/bin/pip install -q --disable-pip-version-check -e . 2>&1 | grep -v '^WARNING: Location' || true
echo "== running the sample council's quarterly job (about a minute; the first run also makes the sample)"
exec .venv/bin/cld quickstart "$@"
