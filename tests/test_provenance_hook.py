"""Core knows no Jupyter: provenance comes from a hook the Jupyter side installs.

With no hook (core alone, no IPython) a change is a script's (source ``api``); with a hook
installed, what the hook says is what the history records. The real kernel hook is tested
in a kernel by tests/test_provenance.py and in JupyterLab by tests/ui/test_ui_provenance.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator

import pandas as pd
import pytest

from dcai_jupyter.core import Dataset, Provenance, set_provenance_hook
from dcai_jupyter.core._provenance import widget_source


def test_core_with_no_hook_and_no_ipython_records_api(tmp_path):
    # A fresh process: only core imported (nothing installs a hook), IPython not importable.
    code = textwrap.dedent(
        """
        import sys
        from importlib.abc import MetaPathFinder

        BLOCKED = {"IPython", "ipykernel", "ipywidgets", "anywidget", "traitlets"}

        class Block(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"{name} is blocked for this test")
                return None

        sys.meta_path.insert(0, Block())
        import pandas as pd
        from dcai_jupyter.core import Dataset, set_provenance_hook

        assert set_provenance_hook(None) is None, "core alone must install no hook"
        ds = Dataset(pd.DataFrame({"x": [1.0, 2.0], "label": ["a", "b"]}), label="label",
                     history=sys.argv[1])
        ds.relabel([0], ["b"])
        row = ds.history.changes.iloc[0]
        print(row["source"], row["execution_count"], row["cell_id"], row["code"])
        assert not [m for m in sys.modules if m.split(".")[0] in BLOCKED]
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "h.sqlite")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["api", "<NA>", "None", "None"]


@pytest.fixture
def hook_says() -> Iterator[dict[str, Provenance | None]]:
    """Install a hook that answers what the test puts in ``said["now"]``; put back the old one."""
    said: dict[str, Provenance | None] = {"now": None}
    prev = set_provenance_hook(lambda: said["now"])
    try:
        yield said
    finally:
        set_provenance_hook(prev)


def _df() -> pd.DataFrame:
    return pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": ["a", "b", "a"]})


def test_the_hooks_values_are_recorded(hook_says):
    ds = Dataset(_df(), label="label", history=":memory:")
    hook_says["now"] = Provenance(
        f"cell:{uuid.uuid4().hex}", "cell", 7, cell_id="cell-abc", code="ds.relabel([0], ['b'])"
    )
    ds.relabel([0], ["b"])
    hook_says["now"] = None  # the hook knows of no cell: a script's change
    ds.relabel([1], ["a"])
    ch = ds.history.changes
    assert ch["source"].tolist() == ["cell", "api"]
    cell = ch.iloc[0]
    assert cell["execution_count"] == 7 and cell["cell_id"] == "cell-abc"
    assert cell["code"] == "ds.relabel([0], ['b'])"
    assert ch.iloc[1]["cell_id"] is None and ch.iloc[1]["code"] is None


def test_a_widget_block_wins_over_the_hook_and_takes_its_session(hook_says):
    ds = Dataset(_df(), label="label", history=":memory:")
    hook_says["now"] = Provenance(f"cell:{uuid.uuid4().hex}", "cell", 4, cell_id="c4", code="x")
    with widget_source("SampleGrid"):
        ds.relabel([0], ["b"])
    hook_says["now"] = Provenance(f"cell:{uuid.uuid4().hex}", "cell", 5, cell_id="c5", code="y")
    with widget_source("SampleGrid"):
        ds.relabel([1], ["a"])
    ch = ds.history.changes
    assert ch["source"].tolist() == ["widget", "widget"]
    assert ch["widget"].tolist() == ["SampleGrid", "SampleGrid"]
    assert ch["code"].tolist() == [None, None]
    # the widget session is the one between two cell runs: the hook's count tells them apart
    assert ch["execution_count"].tolist() == [4, 5]
    assert ds.history.iterations["n_changes"].tolist() == [1, 1]
