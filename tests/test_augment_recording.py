"""Augmented rows are recorded piece by piece (issue 21): the progress line moves while a
million rows are encoded for the history, and the history's text is what one ``json.dumps``
of the change writes (old files load, replay gives the same rows)."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj
from dcai_jupyter.core import _codec
from dcai_jupyter.ops import _progress


def _frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n) * 1e-5,  # repr switches to 1e-05 style below 1e-4
            "z": rng.normal(size=n) * 1e17,
            "k": rng.integers(0, 1000, n).astype(np.int64),
            "y": rng.integers(0, 3, n),
        }
    )


def test_a_delta_encoded_in_pieces_is_the_same_text_and_reports_every_row():
    rng = np.random.default_rng(1)
    n = 23
    delta = {
        "t": "ins",
        "i": list(range(100, 100 + n)),
        "p": list(range(n)),
        "r": {
            "x": rng.normal(size=n).tolist(),
            "nan": [float("nan"), float("inf"), -0.0] * 7 + [1e-05, 1e16],
            "é": ["ü", None] * 11 + ["\n"],
            "img": [_codec.encode_value(np.arange(4, dtype=np.uint8).reshape(2, 2))] * n,
        },
        "g": ["augmented:jitter"] * n,
        "lg": [None] * n,
        "short": [1, 2],  # not one value per row: encoded whole
    }
    steps: list[int] = []
    text = _codec.dumps_rows(delta, n, steps.append, rows_per_piece=5)
    assert text == _codec.dumps(delta) == json.dumps(delta, separators=(",", ":"))
    assert steps == [5, 5, 5, 5, 3]
    one: list[int] = []
    assert _codec.dumps_rows(delta, n, one.append, rows_per_piece=100) == text and one == [n]


def test_the_progress_line_moves_while_the_rows_are_recorded(tmp_path, monkeypatch):
    """A real tqdm bar: its count rises per piece during the recording stage, and the
    history file holds exactly the text the one-shot encoder writes."""
    monkeypatch.setattr(_codec, "ROWS_PER_PIECE", 400)  # 1500 rows: 4 pieces
    bars = []
    make = _progress.progress_bar

    def watched(**kw):
        bar = make(**kw)
        if kw.get("disable"):
            return bar
        seen = []
        update = bar.update

        def counted(k=1):
            update(k)
            seen.append((bar.postfix, bar.n, bar.total))

        bar.update = counted
        bars.append(seen)
        return bar

    monkeypatch.setattr(_progress, "progress_bar", watched)
    df = _frame(1500)
    path = tmp_path / "h.sqlite"
    ds = dj.Dataset(df, label="y", history=path)
    new = ds.augment("jitter", n=1, random_state=0)
    assert len(new) == 1500
    (seen,) = [s for s in bars if s and "making rows" in s[0][0]]  # the augment's own line
    making = [s for s in seen if "making rows" in s[0]]
    recording = [s for s in seen if "recording rows" in s[0]]
    assert [n for _, n, _ in making] == [1024, 1500]
    assert [n for _, n, _ in recording] == [400, 800, 1200, 1500]  # moves per piece
    assert {t for _, _, t in recording} == {1500}

    con = sqlite3.connect(path)
    try:
        (stored,) = con.execute("SELECT delta FROM changes WHERE seq = 1").fetchone()
    finally:
        con.close()
    (change,) = ds.history.store.deltas(1, 1)
    assert stored == json.dumps(change, separators=(",", ":"))  # what one dumps wrote before
    (delta,) = change
    assert delta["t"] == "ins" and len(delta["i"]) == 1500
    made = ds.df.loc[new]
    assert delta["r"]["x"] == made["x"].tolist() and delta["r"]["k"] == made["k"].tolist()
    # the file replays to the same rows
    again = dj.Dataset(df, label="y", history=path)
    assert again.fingerprint == ds.fingerprint
    pd.testing.assert_frame_equal(again.df, ds.df)


def test_an_interrupt_while_recording_records_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(_codec, "ROWS_PER_PIECE", 400)
    df = _frame(1500)
    ds = dj.Dataset(df, label="y", history=tmp_path / "h.sqlite")
    make = _progress.progress_bar

    def stopping(**kw):
        bar = make(**kw)
        if kw.get("disable"):
            return bar
        update = bar.update

        def stop_in_recording(k=1):
            update(k)
            if "recording" in bar.postfix and bar.n >= 800:
                raise KeyboardInterrupt

        bar.update = stop_in_recording
        return bar

    monkeypatch.setattr(_progress, "progress_bar", stopping)
    with pytest.raises(KeyboardInterrupt):
        ds.augment("jitter", n=1, random_state=0)
    assert ds.version == 0 and len(ds) == 1500 and len(ds.history) == 0


def test_a_notebook_line_reset_starts_a_stage_and_its_estimate():
    import time

    bar = _progress._NotebookBar.__new__(_progress._NotebookBar)  # no display outside a kernel
    bar.total, bar.desc, bar.n, bar.postfix, bar.stopped = 10, "augmented:jitter", 10, "", False
    bar.handle, bar.t0 = None, time.monotonic() - 20.0
    bar.reset(total=40)
    bar.set_postfix_str("recording rows")
    assert bar.n == 0 and bar.total == 40
    assert bar._text(done=False).startswith("augmented:jitter: 0/40 [0%] 20.0 s, recording")
    bar.t_stage -= 2.0  # 10 of 40 rows recorded in 2 s: ~6 s left (not 60 s from the start)
    bar.update(10)
    assert ", ~6 s left, recording rows" in bar._text(done=False)
    assert "done in 20.0 s" in bar._text(done=True)  # the whole step's time, not the stage's
