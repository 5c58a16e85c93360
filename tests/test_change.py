"""The public change API: ChangePlan -> Change -> ds.apply, update, revert_to, origins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj
from dcai_jupyter.core import Change, StateError


@pytest.fixture
def df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [0.1, 0.2, 0.3, 0.4, 0.5],
            "n": np.array([1, 2, 3, 4, 5], dtype=np.int64),
            "label": ["a", "b", "a", "b", "a"],
        }
    )


def test_plan_builds_one_change_that_apply_records(df, tmp_path):
    ds = dj.Dataset(df, label="label", name="p", history=tmp_path / "h.sqlite")
    fp0 = ds.fingerprint
    plan = ds.plan("cleanup", {"why": "demo"})
    plan.relabel([0, 1], ["b", "b"])  # id 1 is already "b": not part of the delta
    plan.update([2], "x", [9.0])
    plan.remove([3])
    new = plan.add(pd.DataFrame({"x": [0.7], "n": [7], "label": ["a"]}))
    change = plan.change()
    assert isinstance(change, Change)
    assert change.counts() == {"relabeled": 1, "updated": 1, "removed": 1, "added": 1}
    assert change.ids == [0, 2, 3, int(new[0])]
    assert ds.fingerprint == fp0 and ds.version == 0, "planning changes nothing"
    assert ds.apply(change) == 1
    assert ds.fingerprint == change.fingerprint
    row = ds.history.changes.iloc[-1]
    assert row["op"] == "cleanup" and row["n_rows"] == 4
    assert ds.df.loc[2, "x"] == 9.0 and 3 not in ds.df.index and ds.df.loc[0, "label"] == "b"
    ds.undo()
    assert ds.fingerprint == fp0
    assert dj.open_history(tmp_path / "h.sqlite").replay(df).equals(ds.df)


def test_a_change_planned_on_another_state_is_refused_and_changes_nothing(df):
    ds = dj.Dataset(df, label="label")
    change = ds.plan("fix").relabel([0], ["b"]).change()
    ds.relabel([4], ["b"])
    fp, v = ds.fingerprint, ds.version
    with pytest.raises(StateError, match="Plan it again"):
        ds.apply(change)
    assert (ds.fingerprint, ds.version) == (fp, v)
    assert len(ds.history.changes) == 1


def test_empty_change_records_nothing(df):
    ds = dj.Dataset(df, label="label")
    change = ds.plan("noop").relabel([0], ["a"]).change()
    assert change.empty
    assert ds.apply(change) == 0 and len(ds.history.changes) == 0


def test_params_the_history_cannot_store_are_refused_up_front(df):
    ds = dj.Dataset(df, label="label")
    with pytest.raises(Exception, match="cannot be recorded in the history"):
        ds.plan("bad", {"model": object()})


def test_update_checks_column_and_dtype_and_records_exactly(df):
    ds = dj.Dataset(df, label="label")
    with pytest.raises(ValueError, match="relabel"):
        ds.update([0], "label", ["b"])
    with pytest.raises(KeyError, match="no column 'zz'"):
        ds.update([0], "zz", [1])
    with pytest.raises(ValueError, match="cannot store"):
        ds.update([0], "n", ["not a number"])
    with pytest.raises(ValueError, match="one value per id"):
        ds.update([0, 1], "x", [1.0])
    assert ds.version == 0
    v = ds.update([0, 1], "n", [10, 20], reason="repair")
    assert v == 1 and ds.df["n"].dtype == np.int64 and ds.df.loc[1, "n"] == 20
    assert ds.history.changes.iloc[-1]["op"] == "update"
    assert ds.update([0], "n", [10]) == 1, "no-op update records nothing"


def test_revert_to_is_one_change_back_to_that_fingerprint(df, tmp_path):
    ds = dj.Dataset(df, label="label", name="r", history=tmp_path / "r.sqlite")
    ds.relabel([0], ["b"])
    fp1 = ds.fingerprint
    ds.remove([1, 2])
    ds.add(pd.DataFrame({"x": [1.0], "n": [9], "label": ["a"]}))
    ds.update([3], "x", [3.5])
    v = ds.revert_to(1)
    assert v == 5 and ds.fingerprint == fp1
    assert ds.history.changes.iloc[-1]["op"] == "revert"
    ds.undo()  # a revert is undoable like any change
    assert ds.version == 6 and ds.df.loc[3, "x"] == 3.5
    assert dj.open_history(tmp_path / "r.sqlite").replay(df).equals(ds.df)
    with pytest.raises(ValueError, match="no version 99"):
        ds.revert_to(99)


def test_origins_follow_rows_through_undo_redo_replay_and_resume(df, tmp_path):
    path = tmp_path / "o.sqlite"
    ds = dj.Dataset(df, label="label", name="o", history=path)
    plan = ds.plan("synthesize", {"method": "test"})
    made = plan.add(
        pd.DataFrame({"x": [0.11, 0.12], "n": [1, 1], "label": ["a", "a"]}),
        origin="synthetic:test",
        source_ids=[0, 0],
    )
    ds.apply(plan.change())
    assert ds.origins.loc[made, "origin"].tolist() == ["synthetic:test"] * 2
    assert ds.origins.loc[made, "source_id"].tolist() == [0, 0]
    assert ds.ids_with_origin("synthetic").tolist() == made.tolist()
    ds.remove(ds.ids_with_origin("synthetic"))
    assert len(ds.origins) == 0
    ds.undo()
    assert ds.ids_with_origin("synthetic:test").tolist() == made.tolist()
    # pseudo-labels: a label origin, replaced when a person relabels
    ds.apply(ds.plan("pseudo_label").relabel([1, 2], ["a", "a"], origin="pseudo").change())
    assert ds.ids_with_origin("pseudo").tolist() == [1, 2]
    ds.relabel([1], ["a"])  # a person confirms the same label: the origin goes
    assert ds.ids_with_origin("pseudo").tolist() == [2]
    ds.undo()
    assert ds.ids_with_origin("pseudo").tolist() == [1, 2]
    live = ds.origins
    resumed = dj.Dataset(df, label="label", name="o", history=path)
    pd.testing.assert_frame_equal(resumed.origins, live)
    assert resumed.fingerprint == ds.fingerprint


def test_history_view_checks_out_from_the_live_state_and_delegates(df):
    ds = dj.Dataset(df, label="label")
    ds.relabel([0], ["b"])
    ds.remove([4])
    assert ds.history.checkout(0).equals(ds.history.checkout(0, base=df))
    assert ds.history.checkout(1).loc[0, "label"] == "b"
    assert ds.history.head == 2 and len(ds.history) == 2
    assert ds.history is ds.history
    with pytest.raises(ValueError, match="pass the base data"):
        ds._history.checkout(1)


def test_update_of_an_image_column_takes_arrays_of_any_shape_and_leaves_them_writable():
    imgs = [np.zeros((2, 2)), np.ones((3, 3)), np.full((2, 2), 2.0)]
    df = pd.DataFrame({"img": pd.Series(imgs, dtype=object), "x": [1, 2, 3], "label": [0, 1, 0]})
    ds = dj.Dataset(df, label="label", image="img")
    mine = [np.eye(4), np.zeros((1, 5))]  # different shapes: not one 2-D array
    ds.update([0, 1], "img", mine)
    assert mine[0].flags.writeable, "the caller's arrays stay theirs"
    mine[0][0, 0] = 99.0
    assert ds.df.loc[0, "img"][0, 0] == 1.0
    one = np.full((2, 3), 7.0)
    ds.update([2], "img", one)  # one array for one id is that row's value
    assert ds.df.loc[2, "img"].shape == (2, 3)
    with pytest.raises(ValueError, match="list of 2 values"):
        ds.update([0, 1], "img", np.zeros((2, 4)))  # ambiguous: refused, not split into rows
    ds.undo()
    ds.undo()
    assert ds.df.loc[0, "img"].shape == (2, 2)


def test_a_read_only_history_handle_is_refused_up_front(df, tmp_path):
    path = tmp_path / "ro.sqlite"
    dj.Dataset(df, label="label", name="ro", history=path).relabel([0], ["b"])
    with pytest.raises(dj.HistoryError, match="read-only"):
        dj.Dataset(df, label="label", name="ro", history=dj.open_history(path))


def test_bool_labels_accept_numpy_bools(tmp_path):
    df = pd.DataFrame({"x": [1.0, 2.0], "y": [True, False]})
    ds = dj.Dataset(df, label="y", name="b", history=tmp_path / "b.sqlite")
    new = ds.add(pd.DataFrame({"x": [3.0], "y": [np.True_]}))
    ds.relabel([0], [np.False_])
    assert ds.df["y"].dtype == bool and ds.df.loc[int(new[0]), "y"]
    with pytest.raises(ValueError, match="holds bool"):
        ds.relabel([1], [1])
    assert dj.open_history(tmp_path / "b.sqlite").replay(df).equals(ds.df)


@pytest.mark.parametrize(
    ("labels", "value", "nullable"),
    [([0, 1, 0, 1], 1, "Int64"), ([True, False, True, False], True, "boolean")],
)
def test_rows_without_a_label_join_the_pool_of_an_int_or_bool_label_column(
    tmp_path, labels, value, nullable
):
    df = pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.4], "label": labels})
    path = tmp_path / "pool.sqlite"
    ds = dj.Dataset(df, label="label", name="pool", history=path)
    fp0 = ds.fingerprint
    new = ds.add(pd.DataFrame({"x": [0.5, 0.6]}))  # no label column at all: unlabeled rows
    assert str(ds.df["label"].dtype) == nullable
    assert ds.df.loc[new, "label"].isna().all() and len(ds.history.changes) == 1
    ds.relabel([int(new[0])], [value])
    with pytest.raises(ValueError, match="holds"):
        ds.relabel([int(new[1])], ["cat"])
    assert ds.n_unlabeled == 1  # kept per change, equal to counting
    ds.apply(ds.plan("unlabel").unlabel([0]).change())  # back to the pool
    assert pd.isna(ds.df.loc[0, "label"])
    assert ds.n_unlabeled == int(ds.df["label"].isna().sum()) == 2
    assert dj.open_history(path).replay(df).equals(ds.df)
    resumed = dj.Dataset(df, label="label", name="pool", history=path)
    assert resumed.fingerprint == ds.fingerprint
    ds = resumed  # the newest Dataset of a history file records its changes
    diff = ds.history.diff(0, ds.version)
    assert diff.added.index.tolist() == new.tolist()
    for _ in range(3):
        ds.undo()
        assert ds.n_unlabeled == int(ds.df["label"].isna().sum())
    assert ds.fingerprint == fp0 and ds.df["label"].dtype == df["label"].dtype
    assert ds.n_unlabeled == 0


def test_remove_origin_removes_a_group_of_made_rows_in_one_change(df):
    ds = dj.Dataset(df, label="label")
    plan = ds.plan("synthesize")
    made = plan.add(df.iloc[:2], origin="synthetic:test")
    ds.apply(plan.change())
    ds.apply(ds.plan("pseudo").relabel([0], ["b"], origin="pseudo").change())
    with pytest.raises(ValueError, match="origins present: \\['synthetic:test'\\]"):
        ds.remove_origin("augmented")
    ds.remove_origin("synthetic")
    assert not set(made) & set(ds.ids.tolist()) and 0 in ds.ids  # a pseudo-label is no row origin
    assert ds.history.changes["op"].tolist()[-1] == "remove"
