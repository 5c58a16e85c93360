#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then run all tests.
# Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
    echo "== installing Debian's chromium for the browser tests"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    python3 -m venv .venv
fi
echo "== installing dcai_jupyter[test] (builds the widget front end)"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || echo "(could not upgrade pip; going on with the one the venv has)"
# pip warns about each missing optional local index entry; those lines are noise here.
.venv/bin/python -m pip install -q -e ".[test]" 2>&1 | { grep -v "^WARNING: Location '" || true; }

echo "== ruff"
.venv/bin/ruff check dcai_jupyter tests benchmarks
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
.venv/bin/python -m pytest "$@"
