"""The README's quickstart and replay snippets run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def test_readme_quickstart_and_replay_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    quick = next(b for b in blocks if "dj.Dataset(df" in b)
    replay = next(b for b in blocks if "dj.open_history" in b)
    ns: dict = {}
    exec(compile(quick, "README quickstart", "exec"), ns)
    ds = ns["ds"]
    assert ds.version == 5
    assert ds.history.changes["op"].tolist() == ["relabel", "remove", "add", "undo", "redo"]
    exec(compile(replay, "README replay", "exec"), ns)
    assert ns["h"].head == 5


def test_readme_operations_and_history_snippets_run(tmp_path, monkeypatch):
    # The README's operation and history blocks, as written, on a small real dataset.
    import pandas as pd
    from sklearn.datasets import load_digits

    import dcai_jupyter as dj

    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    ops = next(b for b in blocks if "ds.find_duplicates(" in b)
    hist = next(b for b in blocks if "ds.history.replay_recipe(" in b)
    X, y = load_digits(return_X_y=True)
    df = pd.DataFrame(X[:400], columns=[f"p{i}" for i in range(64)])
    df["label"] = y[:400]
    df = pd.concat([df, df.iloc[:3]], ignore_index=True)  # three exact copies to find
    pool = pd.DataFrame(X[400:600], columns=[f"p{i}" for i in range(64)])
    ds = dj.Dataset(df, label="label", name="readme")
    ns: dict = {"dj": dj, "ds": ds, "unlabeled_df": pool, "new_df": df}
    exec(compile(ops, "README operations", "exec"), ns)
    ops_run = set(ds.history.changes["op"])
    assert {"remove_duplicates", "synthesize", "augment", "add", "pseudo_label"} <= ops_run, ops_run
    assert len(ns["picks"]) == 20 and ns["picks"].action == "label"
    exec(compile(hist, "README history", "exec"), ns)
    result = ns["result"]
    assert len(result.applied) + len(result.skipped) + len(result.needs_review) > 0
    assert ds.history.metrics["name"].str.contains("accuracy").any()
