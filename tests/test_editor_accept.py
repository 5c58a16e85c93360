"""LabelEditor: what Enter accepts on active-learning picks, and the number formats it shares
with the grid."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import dcai_jupyter as dj
from dcai_jupyter.widgets import LabelEditor, SampleGrid

CLASSES = ["benign", "malignant"]


def _ask(widget: Any, msg: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The answer ``widget`` sends for ``msg`` (pushed change notices left out)."""
    sent: list[Any] = []
    monkeypatch.setattr(widget, "send", lambda content, buffers=None: sent.append(content))
    widget._on_custom_msg(widget, {"request_id": "r", **msg}, [])
    answers = [m for m in sent if m.get("type") not in ("changed", "patch")]
    assert len(answers) == 1, sent
    json.dumps(answers[0], allow_nan=False)
    return dict(answers[0])


def _pool(n: int = 120, n_labeled: int = 40) -> Any:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    df = pd.DataFrame({"x": y + rng.normal(scale=0.6, size=n), "z": rng.normal(size=n)})
    labels = np.array(CLASSES, dtype=object)[y]
    labels[n_labeled:] = None  # the pool
    df["label"] = labels
    return dj.Dataset(df, label="label", classes=CLASSES, history=":memory:")


def test_enter_accepts_the_predicted_label_of_an_active_learning_pick(monkeypatch):
    ds = _pool()
    picks = ds.suggest_samples(k=5, model=LogisticRegression(), progress=False)
    assert picks.action == "label" and picks.roles["suggestion"] == "predicted_label"
    ed = LabelEditor(ds, picks)
    assert ed.has_suggestions and ed.action == "label"
    sid = int(ed.queue[0])
    predicted = picks.at[sid, "predicted_label"]
    item = _ask(ed, {"type": "item", "index": 0}, monkeypatch)
    assert item["suggested"] == predicted  # shown as "suggested", what Enter accepts
    # the prediction is the suggestion, not repeated among the finding's other facts
    assert "predicted_label" not in dict(item["finding"])
    answer = _ask(ed, {"type": "decide", "index": 0, "id": sid, "action": "accept"}, monkeypatch)
    assert answer["type"] == "ok" and answer["op"] == "accept" and answer["changed"], answer
    assert ds.take([sid])["label"].iloc[0] == predicted
    assert sid not in ds.pool.index
    last = ds.history.changes.iloc[-1]
    assert (last.op, last.source, list(last.ids)) == ("relabel", "widget", [sid])
    # a class key still overrules the prediction
    other = int(ed.queue[1])
    overrule = next(c for c in CLASSES if c != picks.at[other, "predicted_label"])
    _ask(ed, {"type": "decide", "index": 1, "action": "label", "label": overrule}, monkeypatch)
    assert ds.take([other])["label"].iloc[0] == overrule


def test_random_picks_have_no_prediction_to_accept(monkeypatch):
    """strategy="random" fits no model: nothing is suggested and Enter is refused with what
    to do instead (the front end does not offer it then: no suggestion on the item)."""
    ds = _pool()
    picks = ds.suggest_samples(k=3, strategy="random", progress=False)
    ed = LabelEditor(ds, picks)
    sid = int(ed.queue[0])
    item = _ask(ed, {"type": "item", "index": 0}, monkeypatch)
    assert item["suggested"] is None
    answer = _ask(ed, {"type": "decide", "index": 0, "id": sid, "action": "accept"}, monkeypatch)
    assert answer["type"] == "error" and "pick a class" in answer["message"]
    assert ds.version == 0


def test_editor_formats_numbers_as_the_grid_does():
    """One format per column, chosen from the column's values by the same function the grid
    uses: a label_quality of 4.762e-4 reads "0.0005" in both views."""
    rng = np.random.default_rng(1)
    n = 200
    df = pd.DataFrame(
        {
            "x": np.round(rng.normal(size=n), 2),
            "big": rng.integers(0, 50_000, n),
            "label": rng.choice(CLASSES, n),
        }
    )
    ds = dj.Dataset(df, label="label", classes=CLASSES, history=":memory:")
    quality = rng.uniform(0.0, 1.0, n)
    quality[7] = 4.762e-4
    frame = pd.DataFrame(
        {
            "given_label": df["label"],
            "suggested_label": df["label"],
            "label_quality": quality,
            "score": 1 - quality,
            "is_issue": quality < 0.2,
        },
        index=pd.Index(ds.ids, name="sample_id"),
    )
    issues = dj.Findings(
        frame,
        op="label_issues",
        roles={"score": "score", "flag": "is_issue", "suggestion": "suggested_label"},
        action="relabel",
    )
    ed = LabelEditor(ds, issues)
    grid = SampleGrid(ds, issues=issues)
    grid_formats = grid._number_formats()
    assert ed.formats["label_quality"] == grid_formats["label_quality"]
    assert ed.formats["score"] == grid_formats["score"]
    assert ed.formats["x"] == grid_formats["x"] == {"decimals": 2, "group": False}
    assert ed.formats["big"]["group"] is True
    assert "decimals" in ed.formats["label_quality"]  # not the per-value 4.762e-4
