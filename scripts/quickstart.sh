#!/usr/bin/env bash
# Run the quickstart example against a real local engine:
#
#   bash scripts/quickstart.sh
#
# Installs and starts the engine if needed (scripts/engine.sh), installs aiodock into the
# virtualenv .venv, then runs examples/quickstart.py with it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"

bash scripts/engine.sh install start

if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
fi
PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install -q -e .

[ -f examples/quickstart.py ] || { echo "quickstart.sh: examples/quickstart.py is missing" >&2; exit 1; }
exec "$VENV/bin/python" examples/quickstart.py "$@"
