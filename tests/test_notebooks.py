"""Every example notebook runs top to bottom in a real kernel, and its changes carry provenance."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import dcai_jupyter as dj

NOTEBOOKS = sorted((Path(__file__).parent.parent / "example_notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_example_notebook_executes(path, tmp_path):
    work = tmp_path / path.name
    shutil.copy(path, work)
    nb = nbformat.read(work, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    if path.name == "01_quickstart.ipynb":
        h = dj.open_history(tmp_path / ".dcai" / "digits.sqlite")
        ch = h.changes
        assert len(ch) >= 5
        assert set(ch["source"]) == {"cell"}
        # nbclient sends no cell id (JupyterLab does: see tests/ui); code and count identify the cell
        assert set(ch["cell_id"]) <= {c.id for c in nb.cells} | {None}
        relabel = ch[ch["op"] == "relabel"].iloc[0]
        cell = next(c for c in nb.cells if c.cell_type == "code" and c.source == relabel["code"])
        assert "ds.relabel(" in cell.source
        assert relabel["execution_count"] == cell.execution_count
    if path.name == "05_fix_labels.ipynb":
        h = dj.open_history(tmp_path / ".dcai" / "digits_fix.sqlite")
        ch = h.changes
        assert ch["op"].tolist() == ["accept_suggestions"] and ch["n_rows"].iloc[0] == 20
        ev = h.events
        assert ev["op"].tolist() == ["find_label_issues"] and ev["version"].iloc[0] == 0
        printed = "".join(
            o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
        )
        assert "now correct: 20 of 20" in printed
