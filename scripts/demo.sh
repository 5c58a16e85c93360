#!/usr/bin/env bash
# Install dcai_jupyter into .venv (building the widget front end) and open the example
# notebook in JupyterLab. With --headless: execute every example notebook, fail when an output is
# an error, a warning or needs the network (scripts/run_examples.py), and print what they recorded.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh

if [ "${1:-}" = "--headless" ]; then
    # non-zero when a notebook raises, writes to stderr or shows an output that needs the network
    exec .venv/bin/python scripts/run_examples.py
fi

ROOT_FLAG=""
if [ "$(id -u)" = 0 ]; then ROOT_FLAG="--allow-root"; fi
exec .venv/bin/jupyter lab $ROOT_FLAG --ip=127.0.0.1 example_notebooks/01_quickstart.ipynb
