"""The stop button (issue 21): an interrupt at any point of an operation leaves nothing
half-recorded. The history file and ``ds`` are exactly as before, or (when the interrupt
lands after the write) both hold the whole change; the next operation works.

The interrupts are real: SIGINT sent to this process, which Python turns into
``KeyboardInterrupt`` in the main thread as the notebook's stop button does, at chosen
points of the operation's own code (a line counter through ``sys.settrace``), and
``KeyboardInterrupt`` raised by the hooks a user plugs in (a model's ``fit``, a registered
transform).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _interrupt_data import history_rows, labelled_frame
from sklearn.linear_model import LogisticRegression

import dcai_jupyter as dj

PACKAGE = str(Path(dj.__file__).parent)
#: where a change is written and applied (the dataset, its history and store)
#: the functions between a change's SQLite write and the in-memory state holding it
COMMIT = (
    ":_commit",
    ":append",
    ":_swap",
    ":commit_set",
    ":_prov_id",
    ":transaction",
    ":record_event",
)
WRITES = ("core/_dataset", "core/_history", "core/_store", "core/_interrupt", "core/_table")


@pytest.fixture(autouse=True)
def python_sigint_handler():
    # what a notebook kernel runs cells with: SIGINT raises KeyboardInterrupt
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        sys.settrace(None)
        signal.signal(signal.SIGINT, previous)


def _frame() -> pd.DataFrame:
    return labelled_frame(120, n_features=4, n_informative=3, n_classes=3)


def _open(df: pd.DataFrame, path: Path) -> dj.Dataset:
    return dj.Dataset(df, label="label", name="stop", history=str(path))


# Each operation: (name, its find-and-apply, as a cell would call them)
def _label_issues(ds):
    found = ds.find_label_issues(model=LogisticRegression(max_iter=200), cv=3, progress=True)
    ds.accept_suggestions(found)


def _duplicates(ds):
    found = ds.find_duplicates(near=False, progress=True)
    ds.remove_duplicates(found)


def _augment(ds):
    ds.augment("jitter", n=1, random_state=0, progress=True)


OPERATIONS = {"label_issues": _label_issues, "duplicates": _duplicates, "augment": _augment}


class _LineCounter:
    """A trace function counting line events in the package's code; at line ``at`` it sends
    SIGINT to this process (Python raises KeyboardInterrupt at the next bytecode boundary).
    With ``at=None`` it records where each line event was."""

    def __init__(self, at: int | None = None) -> None:
        self.at = at
        self.count = 0
        self.where: list[str] = []

    def __call__(self, frame, event, arg):
        if not frame.f_code.co_filename.startswith(PACKAGE):
            return None  # neither this frame nor its lines
        return self._line

    def _line(self, frame, event, arg):
        if event == "line":
            self.count += 1
            if self.at is None:
                name = frame.f_code.co_filename[len(PACKAGE) + 1 :]
                self.where.append(f"{name}:{frame.f_code.co_name}")
            elif self.count == self.at:
                os.kill(os.getpid(), signal.SIGINT)
        return self._line


def _run_interrupted(op, ds, at: int | None) -> tuple[bool, _LineCounter]:
    """Run ``op(ds)`` with SIGINT sent at line event ``at``; whether it was interrupted."""
    tracer = _LineCounter(at)
    sys.settrace(tracer)
    try:
        op(ds)
        for _ in range(1000):  # a signal sent on the last lines lands here, still inside try
            pass
    except KeyboardInterrupt:
        return True, tracer
    finally:
        sys.settrace(None)
    return False, tracer


def _points(where: list[str], spread: int = 14, in_writes: int = 14) -> list[int]:
    """Line events to interrupt at: spread over the whole run, plus points inside the writes
    (core's dataset and history modules, where the change is recorded)."""
    total = len(where)
    points = set(np.linspace(1, total, spread).astype(int).tolist())
    writes = [i + 1 for i, f in enumerate(where) if f.startswith(WRITES)]
    if writes:
        pick = np.linspace(0, len(writes) - 1, in_writes).astype(int)
        points |= set(np.array(writes)[pick].tolist())
    # every line of the commit itself: the write, then memory catching up
    points |= {i + 1 for i, f in enumerate(where) if f.endswith(COMMIT)}
    return sorted(points)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_an_interrupt_at_any_point_leaves_history_and_data_whole(name, tmp_path):
    op = OPERATIONS[name]
    df = _frame()
    op(_open(df, tmp_path / "warm.sqlite"))  # first-call work (imports, caches) out of the count
    # an uninterrupted run: where its lines are, and the state after it
    ref_path = tmp_path / "ref.sqlite"
    ref = _open(df, ref_path)
    ref.relabel([0], [2])  # a change before, to be kept
    interrupted, counter = _run_interrupted(op, ref, None)
    assert not interrupted
    done_version, done_df = ref.version, ref.df
    assert done_version > 1
    outcomes = {"before": 0, "after": 0}
    for at in _points(counter.where):
        path = tmp_path / f"at{at}.sqlite"
        ds = _open(df, path)
        ds.relabel([0], [2])
        before_rows, before_df, before_version = history_rows(path), ds.df, ds.version
        interrupted, tracer = _run_interrupted(op, ds, at)
        assert interrupted, f"no KeyboardInterrupt for SIGINT at line event {at} of {tracer.count}"
        rows = history_rows(path)
        if ds.version == before_version:
            # nothing of the change: data, version and every history row as before (a find
            # event may have been recorded whole: events only ever gain whole rows)
            outcomes["before"] += 1
            pd.testing.assert_frame_equal(ds.df, before_df)
            for table, content in before_rows.items():
                if table in ("events", "provenance"):
                    assert rows[table][: len(content)] == content, (at, table)
                else:
                    assert rows[table] == content, (at, table)
        else:
            # the interrupt came after the write: the whole change, in memory and on disk
            outcomes["after"] += 1
            assert ds.version == ds.history.head
            assert ds.version <= done_version
            if ds.version == done_version:
                pd.testing.assert_frame_equal(ds.df, done_df)
        assert ds.history.head == ds.version, at
        # the next operation works, and the file reopens to the same state
        v = ds.relabel([1], [(int(ds.df.loc[1, "label"]) + 1) % 3])
        assert v == ds.version == ds.history.head
        again = _open(df, path)
        assert again.version == ds.version
        pd.testing.assert_frame_equal(again.df, ds.df)
    assert outcomes["before"] > 0


def test_an_interrupt_from_a_model_fit_leaves_nothing(tmp_path):
    # a user's model stopped in its third fold fit: no event, no change, the bar says so
    class StopsOnThirdFit(LogisticRegression):
        fits = 0

        def fit(self, X, y, sample_weight=None):
            type(self).fits += 1
            if type(self).fits == 3:
                raise KeyboardInterrupt
            return super().fit(X, y, sample_weight)

    path = tmp_path / "h.sqlite"
    ds = _open(_frame(), path)
    before = history_rows(path)
    with pytest.raises(KeyboardInterrupt):
        ds.find_label_issues(model=StopsOnThirdFit(), cv=5, progress=False)
    assert StopsOnThirdFit.fits == 3
    assert history_rows(path) == before and ds.version == 0
    found = ds.find_label_issues(model=LogisticRegression(max_iter=200), progress=False)
    assert ds.history.events["op"].tolist() == ["find_label_issues"]
    assert ds.accept_suggestions(found) == 1


def _stop_at_second_batch(rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    calls = _stop_at_second_batch.__dict__.setdefault("calls", [0])
    calls[0] += 1
    if calls[0] == 2:
        raise KeyboardInterrupt
    out = rows.copy()
    out["x0"] = out["x0"] + rng.normal(0, 0.01, len(out))
    return out


def test_an_interrupt_from_a_transform_leaves_nothing(tmp_path):
    # a registered transform interrupted on its second batch of rows (augment makes rows in
    # batches of 1024): nothing recorded, no row added; the next augment works
    dj.register_transform(_stop_at_second_batch)
    df = pd.concat([_frame()] * 20, ignore_index=True)  # > one batch
    path = tmp_path / "h.sqlite"
    ds = _open(df, path)
    before, before_df = history_rows(path), ds.df
    with pytest.raises(KeyboardInterrupt):
        ds.augment(_stop_at_second_batch, n=1, progress=False)
    assert history_rows(path) == before
    assert ds.version == 0
    pd.testing.assert_frame_equal(ds.df, before_df)
    new = ds.augment(_stop_at_second_batch, n=1, progress=False)
    assert len(new) == len(df) and ds.version == 1


def test_a_notebook_bar_says_stopped_and_estimates_the_rest():
    from dcai_jupyter.ops._progress import _NotebookBar, remaining

    assert remaining(10.0, 2, 10) == ", ~40 s left"
    assert remaining(10.0, 1, 100) == ", ~16 min left"
    assert remaining(10.0, 0, 10) == remaining(10.0, 10, 10) == remaining(1.0, 1, None) == ""
    bar = _NotebookBar.__new__(_NotebookBar)  # the text alone: no display outside a kernel
    bar.total, bar.desc, bar.n, bar.postfix, bar.stopped = 10, "label issues", 5, "", False
    bar.t0 = bar.t_stage = __import__("time").monotonic() - 5.0
    assert bar._text(done=False).startswith("label issues: 5/10 [50%] 5.0 s, ~5 s left")
    bar.stopped = True
    assert "stopped after 5.0 s" in bar._text(done=True)
