"""Every example notebook runs top to bottom in a real kernel, and its changes carry provenance."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import dcai_jupyter as dj

ROOT = Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "example_notebooks").glob("*.ipynb"))


def _run_examples():
    """scripts/run_examples.py (what ``demo.sh --headless`` runs) as a module."""
    spec = importlib.util.spec_from_file_location(
        "run_examples", ROOT / "scripts" / "run_examples.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("run_examples", mod)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_example_notebook_executes(path, tmp_path):
    work = tmp_path / path.name
    shutil.copy(path, work)
    nb = nbformat.read(work, as_version=4)
    if path.name == "03_clean_and_balance.ipynb":
        # what a reader tries next, with progress lines shown: each must name its own step
        nb.cells += [
            nbformat.v4.new_code_cell("ev = ds.evaluate()"),
            nbformat.v4.new_code_cell("more = ds.synthesize(target='weakest', random_state=0)"),
        ]
    NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors
    # no warning box, no chart that needs a CDN: what demo.sh --headless fails on
    assert _run_examples().broken_outputs(nb) == []
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
    if path.name == "03_clean_and_balance.ipynb":
        stderr = [
            o
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.outputs
            if o.get("name") == "stderr"
        ]
        assert not stderr, stderr  # no UserWarning box
        printed = "".join(
            o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
        )
        assert printed.count("made by operations") == 1, printed  # the expected situation, once

        def progress_lines(cell):
            return [
                o["data"]["text/plain"] for o in cell.outputs if "text/plain" in o.get("data", {})
            ]

        evaluate, synthesize = progress_lines(nb.cells[-2]), progress_lines(nb.cells[-1])
        assert evaluate and all(t.startswith("evaluate") and "done in" in t for t in evaluate), (
            evaluate
        )
        assert synthesize and synthesize[0].startswith("synthesize"), synthesize
        assert not any("label issues" in t for t in evaluate + synthesize), evaluate + synthesize
    if path.name == "05_fix_labels.ipynb":
        h = dj.open_history(tmp_path / ".dcai" / "digits_fix.sqlite")
        ch = h.changes
        assert ch["op"].tolist() == ["accept_suggestions"] and ch["n_rows"].iloc[0] == 20
        ev = h.events
        assert ev["op"].tolist() == ["find_label_issues"] and ev["version"].iloc[0] == 0
        printed = "".join(
            o.get("text", "")
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
        )
        assert "now correct: 20 of 20" in printed


def test_demo_headless_fails_on_an_error_a_warning_or_a_cdn_chart(tmp_path, capsys):
    """``demo.sh --headless`` (scripts/run_examples.py) exits 1 on any output a reader sees as broken."""
    run_examples = _run_examples()
    ok = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('fine')")])
    bad_cells = {
        "raises": "1 / 0",
        "warns": "import warnings; warnings.warn('careful')",
        # what altair's default renderer emits: a loader script that fetches vega from a CDN
        "cdn": "from IPython.display import HTML\n"
        'HTML(\'<div id="v"></div><script>require.config({paths: {vega: '
        '"https://cdn.jsdelivr.net/npm/vega@6?noext"}})</script>\')',
    }
    paths = {}
    for name, nb in [("ok", ok)] + [
        (k, nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src)]))
        for k, src in bad_cells.items()
    ]:
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        paths[name] = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, paths[name])
    assert run_examples.main([str(paths["ok"])]) == 0
    assert "executed ok.ipynb" in capsys.readouterr().out
    for name in bad_cells:
        assert run_examples.main([str(paths[name])]) == 1, name
        err = capsys.readouterr().err
        assert f"{name}.ipynb" in err, (name, err)
    # and the chart check on its own: an offline chart passes, altair's HTML does not
    import altair as alt
    import pandas as pd

    chart = alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_point().encode(x="x:Q")
    bundle = chart._repr_mimebundle_()
    html = (bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"]
    cell = nbformat.v4.new_code_cell("chart")
    cell.outputs = [
        nbformat.v4.new_output("execute_result", data={"text/html": html, "text/plain": "c"})
    ]
    assert run_examples.broken_outputs(nbformat.v4.new_notebook(cells=[cell]))
    data, _ = dj.offline_chart(chart)._repr_mimebundle_()
    cell.outputs = [nbformat.v4.new_output("execute_result", data=data)]
    assert run_examples.broken_outputs(nbformat.v4.new_notebook(cells=[cell])) == []
