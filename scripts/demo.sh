#!/usr/bin/env bash
# Install dcai_jupyter into .venv (building the widget front end) and open the example
# notebook in JupyterLab. With --headless: execute the notebook and print what it recorded.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh

if [ "${1:-}" = "--headless" ]; then
    .venv/bin/python - <<'PY'
import pathlib, shutil, tempfile
import nbformat
from nbclient import NotebookClient
import dcai_jupyter as dj

work = pathlib.Path(tempfile.mkdtemp(prefix="dcai-demo-"))
for src in sorted(pathlib.Path("example_notebooks").glob("*.ipynb")):
    shutil.copy(src, work / src.name)
    nb = nbformat.read(work / src.name, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(work)}}).execute()
    nbformat.write(nb, work / src.name)
    print(f"executed {src.name} -> {work / src.name}")
for path in sorted((work / ".dcai").glob("*.sqlite")):
    h = dj.open_history(path)
    print(f"\n{path.name}: head version {h.head}")
    print(h.changes[["op", "n_rows", "source", "execution_count"]].to_string())
PY
    exit 0
fi

ROOT_FLAG=""
if [ "$(id -u)" = 0 ]; then ROOT_FLAG="--allow-root"; fi
exec .venv/bin/jupyter lab $ROOT_FLAG --ip=127.0.0.1 example_notebooks/01_quickstart.ipynb
