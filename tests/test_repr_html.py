"""Every ``_repr_html_`` escapes what it shows: op names, column names, labels, index
names, reasons and dataset names can come from a history file someone sent."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import dcai_jupyter as dj
from dcai_jupyter.core import Findings

X = "<img src=x onerror=alert(1)>"
ESCAPED = html.escape(X)


def _safe(out: str | None, shown: bool = True) -> None:
    assert out is not None
    assert X not in out and "<img" not in out, out[:2000]
    if shown:
        assert ESCAPED in out, out[:2000]


@pytest.fixture
def ds() -> dj.Dataset:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            X: np.r_[rng.normal(0, 1, 20), rng.normal(3, 1, 20)],
            "other": rng.normal(size=40),
            "y": [X] * 20 + ["b"] * 20,
        },
        index=pd.Index(np.arange(40), name=X),
    )
    ds = dj.Dataset(df, label="y", name=X, history=":memory:")
    ds.relabel([0], ["b"], reason=X)
    ds.update([1], X, [9.0])
    ds.apply(ds.plan(X, {"why": X}).relabel([2], ["b"]).change())
    ds.history.record_event(X, {"why": X}, {X: X})
    return ds


def test_findings(ds: dj.Dataset) -> None:
    frame = pd.DataFrame(
        {"score": [0.9, 0.1], "flag": [True, False], X: [X, X]},
        index=pd.Index([3, 4], name=X),
    )
    f = Findings(frame, op=X, roles={"score": "score", "flag": "flag"})
    _safe(f._repr_html_())
    _safe(ds.find_outliers(progress=False)._repr_html_(), shown=False)


def test_history_frames(ds: dj.Dataset) -> None:
    for frame in (ds.history.changes, ds.history.iterations, ds.history.events):
        _safe(frame._repr_html_())


def test_diff(ds: dj.Dataset) -> None:
    _safe(ds.history.diff(0, ds.version)._repr_html_())


def test_roles(ds: dj.Dataset) -> None:
    _safe(ds.roles._repr_html_())


def test_evaluation(ds: dj.Dataset) -> None:
    result = ds.evaluate(LogisticRegression(), cv=2)
    _safe(result._repr_html_())
