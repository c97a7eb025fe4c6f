#!/usr/bin/env bash
# The README's first command: install the project, make the synthetic sample council (first run
# only) and run its whole quarterly job (build, checks, history, comparison, DQ report, team
# exception lists). Extra arguments go to `cld quickstart` (e.g. --period 2025-26Q2).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
echo "== installing the project into .venv"
.venv/bin/pip install -q --disable-pip-version-check -e . 2>&1 | grep -v '^WARNING: Location' || true
echo "== running the sample council's quarterly job"
exec .venv/bin/cld quickstart "$@"
