"""How a change reaches the open views of a dataset (kernel side): every view's own message
about the change (a grid's patch, an editor's "changed") leaves before any synced state, one
state message per view at most (none for the version when the view's own message carried it),
a closed view gets nothing, and views of one dataset share a key.

``send`` (custom messages) and ``send_state`` (trait sync) are the comm boundary: they are
recorded in the order the views call them; the Dataset is the real one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj
from dcai_jupyter.widgets import LabelEditor, SampleGrid
from dcai_jupyter.widgets._editor import CHANGED_MAX_IDS

CLASSES = ["cat", "dog", "bird"]


@pytest.fixture
def ds() -> Any:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.normal(size=60), "label": rng.choice(CLASSES, 60)})
    return dj.Dataset(df, label="label", classes=CLASSES, history=":memory:")


def record(monkeypatch: pytest.MonkeyPatch, views: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """What the views send, in order: (view name, "msg" | "state", content or state keys)."""
    out: list[tuple[str, str, Any]] = []
    for name, w in views.items():
        monkeypatch.setattr(
            w, "send", lambda content, buffers=None, n=name: out.append((n, "msg", content))
        )
        real = w.send_state

        def send_state(key: Any = None, n: str = name, real: Any = real) -> None:
            if key is None or len(key):  # an empty key sends nothing
                out.append((n, "state", sorted(key or [])))
            real(key)

        monkeypatch.setattr(w, "send_state", send_state)
    return out


def other_label(ds: Any, sid: int) -> str:
    current = ds.take([sid])["label"].iloc[0]
    return next(c for c in CLASSES if c != current)


def test_every_views_patch_leaves_before_any_state(ds: Any, monkeypatch: pytest.MonkeyPatch):
    views = {"grid": SampleGrid(ds), "gallery": SampleGrid(ds, layout="gallery")}
    views["editor"] = LabelEditor(ds)
    sent = record(monkeypatch, views)
    version = ds.relabel([4], [other_label(ds, 4)])
    kinds = [(n, k, c.get("type") if k == "msg" else c) for n, k, c in sent]
    # the patches and "changed" carry the new version: no version state message follows
    assert kinds == [
        ("grid", "msg", "patch"),
        ("gallery", "msg", "patch"),
        ("editor", "msg", "changed"),
    ]
    assert [c["version"] for _, k, c in sent if k == "msg"] == [version] * 3
    # the traits follow all the same: a page that loads the views now reads the new version
    assert all(w.version == version for w in views.values())
    assert all(w.get_state(key=["version"]) == {"version": version} for w in views.values())


def test_a_change_no_message_carried_sends_the_version(ds: Any, monkeypatch: pytest.MonkeyPatch):
    views = {"grid": SampleGrid(ds), "gallery": SampleGrid(ds, layout="gallery")}
    sent = record(monkeypatch, views)
    version = ds.remove([7])  # no patch: the grids refetch on the version message
    states = [(n, keys) for n, k, keys in sent if k == "state"]
    assert ("grid", ["row_count", "version"]) in states
    assert ("gallery", ["row_count", "version"]) in states
    assert all(w.version == version for w in views.values())
    # a relabel too large for a patch: the version message again
    sent.clear()
    monkeypatch.setattr("dcai_jupyter.widgets._grid.PATCH_MAX_IDS", 1)
    version = ds.relabel([1, 2], [other_label(ds, 1), other_label(ds, 2)])
    assert [(n, k) for n, k, _ in sent] == [("grid", "state"), ("gallery", "state")]
    assert all(w.version == version for w in views.values())


def test_editor_names_the_samples_a_change_touched(ds: Any, monkeypatch: pytest.MonkeyPatch):
    editor = LabelEditor(ds)
    sent = record(monkeypatch, {"editor": editor})
    v1 = ds.relabel([3, 9], [other_label(ds, 3), other_label(ds, 9)])
    v2 = ds.remove([5])
    v3 = ds.undo()
    changed = [c for _, k, c in sent if k == "msg"]
    assert changed == [
        {"type": "changed", "version": v1, "op": "relabel", "ids": [3, 9]},
        {"type": "changed", "version": v2, "op": "remove", "ids": [5]},
        {"type": "changed", "version": v3, "op": "undo", "ids": [5]},
    ]
    # a change too large to name its samples: the views reload the item they show
    sent.clear()
    assert CHANGED_MAX_IDS >= 1000
    monkeypatch.setattr("dcai_jupyter.widgets._editor.CHANGED_MAX_IDS", 1)
    ds.relabel([20, 21], [other_label(ds, 20), other_label(ds, 21)])
    (msg,) = [c for _, k, c in sent if k == "msg"]
    assert msg["type"] == "changed" and msg["ids"] is None and msg["version"] == ds.version


def test_a_closed_view_is_no_longer_told(ds: Any, monkeypatch: pytest.MonkeyPatch):
    a, b = SampleGrid(ds), SampleGrid(ds)
    sent = record(monkeypatch, {"a": a, "b": b})
    b.close()
    ds.relabel([1], [other_label(ds, 1)])
    assert {n for n, _, _ in sent} == {"a"}
    assert b.version == 0 and a.version == ds.version


def test_views_of_one_dataset_share_a_key(ds: Any):
    other = dj.Dataset(pd.DataFrame({"label": ["cat", "dog"]}), label="label")
    a, b, e = SampleGrid(ds), SampleGrid(ds, layout="gallery"), LabelEditor(ds)
    c = SampleGrid(other)
    assert a.dataset_key and a.dataset_key == b.dataset_key == e.dataset_key
    assert c.dataset_key and c.dataset_key != a.dataset_key


def test_a_history_view_made_first_does_not_delay_the_patches(
    ds: Any, monkeypatch: pytest.MonkeyPatch
):
    from dcai_jupyter.widgets import HistoryView

    history = HistoryView(ds)
    views = {"timeline": history.timeline, "grid": SampleGrid(ds)}
    sent = record(monkeypatch, views)
    ds.relabel([2], [other_label(ds, 2)])
    kinds = [(n, k) for n, k, _ in sent]
    assert kinds[0] == ("grid", "msg")  # the patch, before the timeline reads its summary
    assert ("timeline", "state") in kinds
