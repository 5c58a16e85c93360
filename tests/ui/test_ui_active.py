"""Active learning in a real JupyterLab: label 5 suggested pool rows in the LabelEditor with
number keys; the pool shrinks, the training set grows, the grid beside it shows the new labels,
and the history holds 5 changes with source ``widget``."""

from __future__ import annotations

import pytest
from labharness import wait_until
from nbcode import CLASSES
from uidom import (
    editor_current,
    editor_progress,
    editor_root,
    grid_root,
    selected_label,
    status_text,
    wait_status,
)

pytestmark = pytest.mark.ui

K = 8
N = 200
N_LABELED = 60

POOL = f"""\
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
import dcai_jupyter as dj

CLASSES = {CLASSES!r}
rng = np.random.default_rng(0)
y = rng.integers(0, 3, {N})
df = pd.DataFrame({{"x": y + rng.normal(scale=0.8, size={N}), "z": rng.normal(size={N})}})
labels = np.array(CLASSES, dtype=object)[y]
labels[{N_LABELED}:] = None  # the pool
df["label"] = labels
ds = dj.Dataset(df, label="label", classes=CLASSES, history=":memory:")
picks = ds.suggest_samples(k={K}, model=LogisticRegression(), progress=False)
len(ds.pool), len(ds.labeled), picks.action
"""


def test_label_5_suggested_pool_rows_with_keys(notebook):
    nb = notebook(
        [
            POOL,
            "grid = dj.SampleGrid(ds, findings=picks)\ngrid",
            "editor = dj.LabelEditor(ds, picks)\neditor",
        ]
    )
    page = nb.page
    assert nb.kernel.eval("[len(ds.pool), len(ds.labeled), picks.action]") == [
        N - N_LABELED,
        N_LABELED,
        "label",
    ]
    queue = nb.kernel.eval("picks.ids.tolist()")  # best first (rank 1..K)
    assert len(queue) == K
    grid = grid_root(page)
    status = wait_status(grid, rows=N, version=0)
    assert f"{N_LABELED} labeled · {N - N_LABELED} in the pool" in status, status
    grid.get_by_test_id("filter-issues").check()  # the suggestions only
    wait_status(grid, rows=K)
    editor = editor_root(page)
    wait_until(
        lambda: editor_progress(editor) == (0, K),
        15,
        f"editor-progress 0 / {K}",
        describe=lambda: editor.get_by_test_id("editor-progress").inner_text(),
    )
    reason = nb.kernel.eval(f"picks.at[{queue[0]}, 'reason']")
    assert editor.get_by_test_id("editor-reason").inner_text().strip() == reason
    editor.click(position={"x": 3, "y": 3})  # focus (a corner: no button there); keys go to it

    expected: dict[int, str] = {}
    for step in range(5):
        sid = editor_current(editor)
        assert sid == queue[step], f"step {step}: current {sid}, expected {queue[step]}"
        k = step % len(CLASSES)
        expected[sid] = CLASSES[k]
        page.keyboard.press(str(k + 1))  # pick a class by its number
        wait_until(
            lambda step=step: editor_progress(editor) == (step + 1, K),
            15,
            f"editor-progress {step + 1} / {K}",
            describe=lambda: editor.get_by_test_id("editor-progress").inner_text(),
        )
        if step < 4:
            wait_until(lambda sid=sid: editor_current(editor) != sid, 15, "the next suggestion")

    nb.kernel.wait_for(
        "int((ds.history.changes.source == 'widget').sum()) == 5", what="5 widget changes"
    )
    rows = nb.kernel.eval("ds.history.changes[['op', 'ids', 'source', 'widget']].values.tolist()")
    assert rows == [["relabel", [sid], "widget", "LabelEditor"] for sid in expected], rows
    # a labeled row leaves the pool and joins the training set
    assert nb.kernel.eval("[len(ds.pool), len(ds.labeled), ds.version]") == [
        N - N_LABELED - 5,
        N_LABELED + 5,
        5,
    ]
    assert nb.kernel.eval(f"sorted(set({list(expected)!r}) & set(ds.pool.index))") == []
    labels = nb.kernel.eval(f"[str(v) for v in ds.take({list(expected)!r})['label']]")
    assert labels == list(expected.values())
    # the other open view follows, its pool and training-set counts too
    status = wait_status(grid, version=5)
    pool_text = f"{N_LABELED + 5} labeled · {N - N_LABELED - 5} in the pool"
    wait_until(
        lambda: pool_text in status_text(grid),
        15,
        f"grid-status to show {pool_text!r}",
        describe=lambda: status_text(grid),
    )
    for sid, label in expected.items():
        wait_until(
            lambda sid=sid, label=label: selected_label(grid, sid) == label,
            15,
            f"grid row {sid} shows {label}",
            describe=lambda sid=sid: selected_label(grid, sid),
        )
    # the next suggestions leave the labeled rows out
    again = nb.kernel.eval(
        f"ds.suggest_samples(k={K}, model=LogisticRegression(), progress=False).ids.tolist()"
    )
    assert not set(again) & set(expected)
