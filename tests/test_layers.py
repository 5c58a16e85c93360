"""The layers of DESIGN.md hold: an import-linter contract, and core working with nothing above it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_import_contracts_are_kept():
    bin_dir = Path(sys.executable).parent
    run = subprocess.run(
        [str(bin_dir / "lint-imports"), str(ROOT / ".importlinter")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_core_works_with_no_sklearn_ipython_or_widgets_installed(tmp_path):
    # Block the packages as if they were not installed, then use the engine end to end.
    code = textwrap.dedent(
        """
        import sys
        from importlib.abc import MetaPathFinder

        BLOCKED = {"sklearn", "IPython", "ipywidgets", "anywidget", "altair", "traitlets",
                   "joblib", "ipykernel", "PIL"}

        class Block(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"{name} is blocked for this test")
                return None

        sys.meta_path.insert(0, Block())
        import pandas as pd
        from dcai_jupyter.core import Dataset, Findings, open_history

        df = pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.4], "label": ["a", "b", "a", "b"]})
        ds = Dataset(df, label="label", name="plain", history=sys.argv[1])
        ds.relabel([0], ["b"])
        ds.update([1], "x", [9.5])
        plan = ds.plan("my_fix", {"why": "test"})
        plan.remove([2])
        new = plan.add(pd.DataFrame({"x": [1.0], "label": [None]}), origin="synthetic:test")
        ds.apply(plan.change())
        f = Findings(pd.DataFrame({"s": [0.9, 0.1], "f": [True, False]}, index=[0, 1]),
                     op="demo", roles={"score": "s", "flag": "f"})
        assert list(f.flagged.ids) == [0]
        assert ds.history.checkout(1)["x"].tolist() == [0.1, 0.2, 0.3, 0.4]
        h = open_history(sys.argv[1])
        assert h.replay(df).equals(ds.df), "replay must equal the live state"
        assert ds.origins.loc[int(new[0]), "origin"] == "synthetic:test"
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not leaked, leaked
        print("ok", ds.version)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "h.sqlite")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok 3"
