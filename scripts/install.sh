#!/usr/bin/env bash
# Create .venv (if missing) and install dcai_jupyter with its test extras into it; the
# package build bundles the widget front end (js/ -> dcai_jupyter/static/) with npm.
# Used by scripts/test.sh and scripts/demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    python3 -m venv .venv
fi
echo "== installing dcai_jupyter[test] (builds the widget front end)"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || echo "(could not upgrade pip; going on with the one the venv has)"
# pip warns about each missing optional local index entry; those lines are noise here.
.venv/bin/python -m pip install -q -e ".[test]" 2>&1 | { grep -v "^WARNING: Location '" || true; }
