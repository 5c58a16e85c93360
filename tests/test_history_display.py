"""``ds.history.changes`` / ``.iterations`` / ``.events`` display readably, and widget
edits carry the cell that displayed the widget (checked in a real kernel)."""

from __future__ import annotations

import ast
import pickle
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj
from dcai_jupyter.core._history_frames import (
    ChangesFrame,
    IterationsFrame,
    describe,
    where,
)
from dcai_jupyter.core._provenance import widget_source

GRID_CELL = "3f2a9c1e-58d4-4c0b-9d3e-0a1b2c3d4e5f"


def _ds(**kw: Any) -> dj.Dataset:
    df = pd.DataFrame(
        {"x": np.arange(8, dtype=float), "label": ["cat", "cat", "dog", "<b>x</b>"] * 2}
    )
    return dj.Dataset(df, label="label", **kw)


def test_changes_show_before_after_where_and_reason_without_params():
    ds = _ds()
    ds.relabel([0, 1, 2], ["dog", "dog", "bird"], reason="looked at <i>them</i>")
    with widget_source("SampleGrid", cell_id=GRID_CELL, execution_count=7):
        ds.relabel([3], ["cat"])
    ds.remove([4, 6], reason="duplicates")
    ch = ds.history.changes
    assert isinstance(ch, ChangesFrame)

    text = repr(ch)
    assert "relabeled 3: 0 cat→dog, 1 cat→dog, 2 dog→bird" in text
    assert "relabeled 1: 3 <b>x</b>→cat" in text  # repr is plain text: no escaping
    assert "widget SampleGrid in cell [7] · 3f2a9c1e" in text
    assert GRID_CELL not in text  # the short id only
    assert "removed 2: 4, 6" in text
    assert text.count("looked at <i>them</i>") == 1  # the reason once, no params dict
    assert "{'reason'" not in text

    view = ch.readable()
    assert list(view.columns) == ["time", "where", "op", "rows", "change", "reason"]
    assert "params" not in view.columns and view.index.name == "version"

    page = ch._repr_html_()
    assert page is not None
    assert "3 &lt;b&gt;x&lt;/b&gt;→cat" in page
    assert "looked at &lt;i&gt;them&lt;/i&gt;" in page
    assert "<b>x</b>" not in page and "<i>" not in page  # cell values are text, never HTML
    assert "<th>params</th>" not in page and "<th>change</th>" in page
    assert "widget SampleGrid in cell [7] · 3f2a9c1e" in page


def test_the_frames_stay_dataframes_with_every_raw_column():
    ds = _ds()
    ds.relabel([0], ["dog"], reason="r")
    ds.remove([1])
    ch = ds.history.changes
    for col in ("version", "op", "params", "n_rows", "source", "execution_count", "cell_id"):
        assert col in ch.columns
    for col in ("widget", "code", "reason", "ids", "timestamp", "fingerprint"):
        assert col in ch.columns
    assert ch.op.iloc[-1] == "remove" and ch.params.iloc[0] == {"reason": "r"}
    assert ch.ids.tolist() == [[0], [1]] and ch.reason.iloc[0] == "r"
    # row subsets keep the readable display; other shapes are plain DataFrames
    assert isinstance(ch.tail(1), ChangesFrame) and "removed 1: 1" in repr(ch.tail(1))
    assert isinstance(ch[ch.op == "relabel"], ChangesFrame)
    assert type(ch[["op", "reason"]]) is pd.DataFrame
    assert type(ch.op) is pd.Series
    assert ch.to_string() == pd.DataFrame(ch).to_string()  # the raw columns, on request
    # pickled (no SQLite connection travels): still a frame, shown without the deltas
    back = pickle.loads(pickle.dumps(ch))
    pd.testing.assert_frame_equal(pd.DataFrame(back), pd.DataFrame(ch))
    assert "change" not in back.readable().columns and "relabel" in repr(back)


def test_long_history_shows_and_decodes_only_the_head_and_tail(monkeypatch):
    df = pd.DataFrame({"x": np.arange(50, dtype=float), "label": ["a", "b"] * 25})
    ds = dj.Dataset(df, label="label")
    for i in range(100):
        sid = i % 50
        ds.relabel([sid], ["b" if ds.df.at[sid, "label"] == "a" else "a"])
    store = ds.history.store
    asked: list[list[int]] = []
    original = type(store).deltas_at

    def spy(self: Any, versions: Any) -> Any:
        asked.append(sorted(versions))
        return original(self, versions)

    monkeypatch.setattr(type(store), "deltas_at", spy)
    ch = ds.history.changes
    with pd.option_context("display.max_rows", 60, "display.min_rows", 10):
        text = repr(ch)
        page = ch._repr_html_()
    assert asked == [[1, 2, 3, 4, 5, 96, 97, 98, 99, 100]] * 2
    assert "100 changes" in text and "…" in text and page is not None and "…" in page
    view = ch.readable(max_rows=4)
    assert view.index.tolist() == [1, 2, "…", 99, 100]
    assert view.loc[100, "change"] == "relabeled 1: 49 a→b"  # b→a at v50, back at v100


def test_reads_by_id_list_cross_query_chunks(monkeypatch):
    from dcai_jupyter.core import _history_store

    ds = _ds()
    for i in range(7):
        with widget_source("SampleGrid", cell_id=f"cell-{i}", execution_count=i):
            ds.relabel([i], ["bird"])
    store = ds.history.store
    versions = list(range(1, 8))
    prov_ids = sorted({p for _, _, _, p, _ in store.change_summaries()})
    whole = store.deltas_at(versions), store.provenance(prov_ids)
    monkeypatch.setattr(_history_store, "_IN_CHUNK", 3)
    chunked = store.deltas_at(versions), store.provenance(prov_ids)
    assert chunked == whole
    assert sorted(chunked[0]) == versions and sorted(chunked[1]) == prov_ids
    assert len(prov_ids) == 7 and chunked[1][prov_ids[-1]]["cell_id"] == "cell-6"


def test_large_relabels_summarize_pairs_and_origins():
    deltas = [{"t": "set", "i": list(range(10)), "o": ["a"] * 7 + ["b"] * 3, "n": ["b"] * 10}]
    assert describe(deltas) == "relabeled 10: a→b ×7, b→b ×3"
    adds = [
        {"t": "ins", "i": list(range(100, 110)), "p": [], "r": {}, "g": ["synthetic:smote"] * 10}
    ]
    assert describe(adds) == "added 10 (synthetic:smote)"
    missing = [{"t": "set", "i": [5], "o": [None], "n": ["cat"], "g": ["pseudo"]}]
    assert describe(missing) == "relabeled 1 (pseudo): 5 (none)→cat"
    assert describe([{"t": "set", "c": "x", "i": [1], "o": [1.0], "n": [2.5]}]) == (
        "updated x on 1: 1 1.0→2.5"
    )


def test_where_names_cells_widgets_and_scripts():
    assert where("cell", 5, "3f2a9c1e-1111", None) == "cell [5] · 3f2a9c1e"
    assert where("cell", pd.NA, None, None) == "cell"
    assert where("widget", 7, None, "LabelEditor") == "widget LabelEditor in cell [7]"
    assert where("widget", None, None, "SampleGrid") == "widget SampleGrid"
    assert (
        where("callback", 4, None, "0123456789abcdef") == "widget callback 01234567 after cell [4]"
    )
    assert where("api", None, None, None) == "script"


def test_iterations_and_events_display(tmp_path):
    ds = _ds(name="it", history=tmp_path / "it.sqlite")
    ds.relabel([0], ["dog"])
    ds.relabel([1], ["dog"])
    ds.remove([2, 3])
    with widget_source("LabelEditor", cell_id=GRID_CELL, execution_count=3):
        ds.relabel([4], ["dog"])
    ds.history.record_event("find_label_issues", {"cv": 5, "model": None}, {"flagged": 2})
    it = ds.history.iterations
    assert isinstance(it, IterationsFrame)
    view = it.readable()
    assert view["versions"].tolist() == ["1..3", "4"]
    assert view["ops"].tolist() == ["relabel ×2, remove (2 rows)", "relabel"]
    assert view["where"].tolist() == ["script", "widget LabelEditor in cell [3] · 3f2a9c1e"]
    assert view["rows"].tolist() == [4, 1]
    assert "relabel ×2, remove (2 rows)" in repr(it)
    ev = ds.history.events
    assert ev.op.iloc[0] == "find_label_issues"
    assert ev.params.iloc[0] == {"cv": 5, "model": None}
    text = repr(ev)
    assert "flagged=2" in text and "cv=5" in text and "script" in text
    assert "model=" not in text  # defaults left as None are noise


def test_a_history_written_before_widget_cells_were_recorded_opens_and_displays(tmp_path):
    """Before, a widget's change had no cell id and the execution count of the last cell
    run; the file format is the same (schema 1), so old and new rows mix in one file."""
    path = tmp_path / "old.sqlite"
    ds = _ds(name="old", history=path)
    with widget_source("SampleGrid"):  # what every widget recorded before
        ds.relabel([0], ["dog"])
    ds.history.close()
    old = dj.open_history(path)
    assert old.changes.cell_id.tolist() == [None]
    assert "widget SampleGrid" in repr(old.changes) and "relabeled 1: 0 cat→dog" in repr(
        old.changes
    )
    assert old.iterations.readable()["where"].tolist() == ["widget SampleGrid"]
    old.close()
    resumed = _ds(name="old", history=path)
    with widget_source("SampleGrid", cell_id=GRID_CELL, execution_count=2):
        resumed.relabel([1], ["dog"])
    assert resumed.history.changes.readable()["where"].tolist() == [
        "widget SampleGrid",
        "widget SampleGrid in cell [2] · 3f2a9c1e",
    ]


# ------------------------------------------------------------------ a real kernel
jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")


def _execute(kc: Any, code: str, cell_id: str, **exprs: str) -> dict[str, Any]:
    """Run ``code`` as JupyterLab does (the cell id in the request's metadata)."""
    content = {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": exprs,
        "allow_stdin": False,
        "stop_on_error": True,
    }
    msg = kc.session.msg("execute_request", content, metadata={"cellId": cell_id})
    kc.shell_channel.send(msg)
    deadline = time.monotonic() + 120
    while True:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            break
    assert reply["content"]["status"] == "ok", reply["content"]
    _wait_idle(kc, msg["header"]["msg_id"])
    return reply["content"]


def _wait_idle(kc: Any, msg_id: str) -> list[dict[str, Any]]:
    out = []
    deadline = time.monotonic() + 120
    while True:
        m = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        out.append(m)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            return out


def _widget_msg(kc: Any, model_id: str, content: dict[str, Any]) -> None:
    """A custom message from the widget's front end (a click in the grid)."""
    msg = kc.session.msg(
        "comm_msg", {"comm_id": model_id, "data": {"method": "custom", "content": content}}
    )
    kc.shell_channel.send(msg)
    outputs = _wait_idle(kc, msg["header"]["msg_id"])
    errors = [m["content"] for m in outputs if m["msg_type"] == "error"]
    assert not errors, errors


SETUP = """
import pandas as pd
import dcai_jupyter as dj
ds = dj.Dataset(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "label": ["a", "b", "a", "b"]}),
                label="label", name="w", history="w.sqlite")
"""


def test_widget_edits_carry_the_cell_that_displayed_the_widget(tmp_path):
    pytest.importorskip("anywidget")
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        _execute(kc, SETUP, "setup-cell")  # [1]
        grid = _execute(kc, "g = dj.SampleGrid(ds)\ng", GRID_CELL, g="g.model_id")  # [2]
        _execute(kc, "e = dj.SampleGrid(ds)", "made-here")  # [3]: created, not shown
        shown = _execute(kc, "display(e)", "shown-here", e="e.model_id")  # [4]: shown here
        _execute(kc, "x = 1", "another-cell")  # [5]: the clicks come after this cell
        g = ast.literal_eval(grid["user_expressions"]["g"]["data"]["text/plain"])
        e = ast.literal_eval(shown["user_expressions"]["e"]["data"]["text/plain"])
        _widget_msg(kc, g, {"type": "relabel", "ids": [0], "label": "b", "request_id": "1"})
        _widget_msg(kc, e, {"type": "relabel", "ids": [1], "label": "a", "request_id": "2"})
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    # after the kernel is gone, the file still says which widget, in which cell
    h = dj.open_history(tmp_path / "w.sqlite")
    ch = h.changes
    assert ch.source.tolist() == ["widget", "widget"]
    assert ch.widget.tolist() == ["SampleGrid", "SampleGrid"]
    assert ch.cell_id.tolist() == [GRID_CELL, "shown-here"]
    assert ch.execution_count.tolist() == [2, 4]
    assert ch.code.tolist() == [None, None]
    text = repr(ch)
    assert "widget SampleGrid in cell [2] · 3f2a9c1e" in text
    assert "widget SampleGrid in cell [4] · shown-he" in text
    assert "relabeled 1: 0 a→b" in text and "relabeled 1: 1 b→a" in text
    # two views of one class are two iterations
    assert h.iterations.readable()["where"].tolist() == [
        "widget SampleGrid in cell [2] · 3f2a9c1e",
        "widget SampleGrid in cell [4] · shown-he",
    ]
    h.close()
