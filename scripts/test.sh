#!/usr/bin/env bash
# The whole check, the same on a developer machine and in CI:
#
#   bash scripts/test.sh [pytest arguments...]
#
# 1. installs the Debian packages and starts a real Docker Engine (scripts/engine.sh);
# 2. creates or updates the virtualenv .venv with aiodock[test], nox, ruff, mypy and what
#    the documentation build needs (docs/requirements.txt);
# 3. runs ruff check, ruff format --check, mypy and the strict documentation build
#    (nox -s docs); the unit suite on every supported Python (nox -s unit: 3.10-3.13, from
#    pyenv when it is there) and with every dependency at its declared floor plus a round
#    trip against the engine (nox -s floors); then the whole pytest suite (unit and
#    integration) last, so that pytest's summary line closes the output.
# Every step runs even if an earlier one failed; the exit status is non-zero if any did,
# including pytest's "no tests collected" (exit 5).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
# nox finds its interpreters (python3.10 ... python3.13) on PATH; pyenv keeps them here.
for bin in /root/.pyenv/versions/*/bin "${HOME:-/root}"/.pyenv/versions/*/bin; do
    if [ -d "$bin" ]; then
        PATH="$PATH:$bin"
    fi
done
export PATH
VENV="$ROOT/.venv"
PYTEST_TIMEOUT="${AIODOCK_TEST_TIMEOUT:-1800}"

# Create .venv if needed and install "$@" into it, unless the same request was already
# satisfied for this pyproject.toml (a stamp file records it).
ensure_venv() {
    if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        echo "test.sh: creating $VENV" >&2
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp="$VENV/.aiodock-install" want
    want="$(printf '%s\n' "$*" | cat - pyproject.toml docs/requirements.txt | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && grep -qx "$want" "$stamp"; then
        return 0
    fi
    echo "test.sh: installing $* into $VENV" >&2
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install -q "$@"
    echo "$want" >>"$stamp"
}

bash scripts/engine.sh install start podman
started=$SECONDS
ensure_venv -e ".[test]" nox ruff mypy -r docs/requirements.txt
echo "test.sh: virtualenv ready in $((SECONDS - started))s" >&2

PY="$VENV/bin/python"
failed=()
step() {
    local name="$1"
    shift
    echo "==> $name" >&2
    local rc=0
    "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then
        failed+=("$name (exit $rc)")
    fi
}

step "ruff check" "$PY" -m ruff check .
step "ruff format --check" "$PY" -m ruff format --check .
step "mypy" "$PY" -m mypy
# The site is built into a temporary directory: only whether it builds matters here.
docs_out="$(mktemp -d)"
step "docs (nox -s docs: mkdocs build --strict)" "$PY" -m nox -s docs -- --quiet --site-dir "$docs_out"
rm -rf "$docs_out"
# Before the main pytest step, whose summary line must stay the last thing printed. The
# main step runs the unit suite on the venv's own Python: nox covers the other three.
venv_python="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
unit_sessions=()
for version in 3.10 3.11 3.12 3.13; do
    [ "$version" = "$venv_python" ] || unit_sessions+=("unit-$version")
done
step "nox unit (${unit_sessions[*]}; $venv_python in the main step)" "$PY" -m nox -s "${unit_sessions[@]}"
step "nox floors" "$PY" -m nox -s floors
# pytest exits 5 when it collected no test: that is a failure like any other non-zero.
# The Docker/Podman compatibility table must say what this run's engines did.
step "pytest" env AIODOCK_COMPAT_CHECK=docs/compatibility.json \
    timeout --foreground --signal=INT --kill-after=60 "$PYTEST_TIMEOUT" \
    "$PY" -m pytest -ra "$@"

if [ "${#failed[@]}" -ne 0 ]; then
    printf 'test.sh: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
