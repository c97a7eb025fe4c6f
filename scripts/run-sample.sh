#!/usr/bin/env bash
# Install the project and run the main job on the embedded sample council (the README's
# first command).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
echo "== installing the project into .venv"
.venv/bin/pip install -q --disable-pip-version-check -e . 2>&1 | grep -v '^WARNING: Location' || true
exec .venv/bin/cld quickstart "$@"
