"""Unit tests of the engine core: ids, mutations, errors, history file, resume, replay."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj
from dcai_jupyter.core import _fingerprint as fpr
from dcai_jupyter.core._table import Table


def test_ids_from_range_index_and_unique_index(small_df):
    ds = dj.Dataset(small_df, label="label")
    assert ds.ids.tolist() == list(range(20))
    custom = small_df.set_index(pd.Index(np.arange(100, 120)))
    ds2 = dj.Dataset(custom, label="label")
    assert ds2.ids.tolist() == list(range(100, 120))
    assert ds2.df.index.name == "sample_id"


def test_non_integer_index_kept_as_column(small_df):
    df = small_df.set_index(pd.Index([f"f{i}.png" for i in range(20)], name="file"))
    ds = dj.Dataset(df, label="label")
    assert ds.ids.tolist() == list(range(20))
    assert ds.df["file"].iloc[3] == "f3.png"


def test_duplicate_index_is_a_clear_error(small_df):
    df = small_df.set_index(pd.Index([0] * 20))
    with pytest.raises(ValueError, match="duplicate"):
        dj.Dataset(df, label="label")


def test_missing_label_column(small_df):
    with pytest.raises(KeyError, match="label column 'y'"):
        dj.Dataset(small_df, label="y")


def test_relabel_remove_add_versions_and_ids_never_reused(small_df):
    ds = dj.Dataset(small_df, label="label", name="pets")
    assert ds.version == 0
    assert small_df.loc[[3, 4], "label"].tolist() == ["cat", "cat"]  # so one row changes
    assert ds.relabel([3, 4], ["cat", "dog"], reason="checked") == 1  # the new version
    assert ds.version == 1
    assert ds.history.changes["ids"].tolist() == [[4]]  # the unchanged row is not recorded
    v1 = ds.version
    ds.remove([19, 18])
    assert ds.version == v1 + 1
    new = ds.add(pd.DataFrame({"x": [0.5], "n": [7], "label": ["cow"]}))
    assert new.tolist() == [20]  # 18 and 19 are gone but never reused
    ds.remove(new)
    new2 = ds.add(pd.DataFrame({"x": [0.5], "n": [7], "label": ["cow"]}))
    assert new2.tolist() == [21]
    assert ds.df.loc[21, "label"] == "cow"
    assert 19 not in ds.df.index


def test_relabel_to_same_value_records_nothing(small_df):
    ds = dj.Dataset(small_df, label="label")
    cur = ds.df.loc[2, "label"]
    assert ds.relabel([2], [cur]) == 0
    assert ds.version == 0 and len(ds.history.changes) == 0


def test_df_is_a_snapshot_edits_do_not_leak(small_df):
    ds = dj.Dataset(small_df, label="label")
    view = ds.df
    view.loc[0, "label"] = "EDITED"
    view["x"] = 0.0
    assert ds.df.loc[0, "label"] != "EDITED"
    assert ds.df["x"].iloc[1] != 0.0
    col = ds.column("x")
    with pytest.raises(ValueError):
        col[0] = 1.0


def test_column_is_a_snapshot_later_changes_do_not_reach_it():
    # In-place changes (no plan before them) used to write into the array column() had
    # handed out; one meaning now, whatever ran before: what column() returned stays.
    ds = dj.Dataset(pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": ["a", "b", "a"]}), label="label")
    labels, xs = ds.column("label"), ds.column("x")
    some = ds.column("label", ds.positions([2, 0]))
    ds.relabel([0], ["b"])
    ds.update([1], "x", [9.5])
    assert labels.tolist() == ["a", "b", "a"] and xs.tolist() == [1.0, 2.0, 3.0]
    assert some.tolist() == ["a", "a"]
    assert ds.column("label").tolist() == ["b", "b", "a"]
    assert ds.column("x").tolist() == [1.0, 9.5, 3.0]
    # and again, now that the table owns fresh copies: the second taking is kept too
    again = ds.column("label")
    ds.relabel([2], ["b"])
    ds.undo()
    assert again.tolist() == ["b", "b", "a"] and labels.tolist() == ["a", "b", "a"]
    for arr in (labels, xs, some, again):
        assert not arr.flags.writeable
    ds.verify()


def test_internal_mutation_is_detected(small_df):
    ds = dj.Dataset(small_df, label="label")
    ds.verify()
    ds._table.arrays["x"][5] = 123.0  # bypasses the history on purpose
    with pytest.raises(dj.StateError, match=r"rows \[5\]"):
        ds.verify()


def test_image_cells_are_frozen():
    imgs = [np.zeros((8, 8)) for _ in range(3)]
    df = pd.DataFrame({"image": imgs, "label": [0, 1, 2]})
    ds = dj.Dataset(df, label="label")
    assert ds.image_column == "image"
    with pytest.raises(ValueError):
        ds.df["image"].iloc[0][0, 0] = 5
    assert imgs[0].flags.writeable  # the caller's arrays are left alone


@pytest.mark.parametrize(
    ("ids", "labels", "exc", "match"),
    [
        ([999], ["cat"], KeyError, "999"),
        ([1, 2], ["cat"], ValueError, "2 ids"),
        ([1], [None], ValueError, "missing"),
        ([1], [float("nan")], ValueError, "missing"),
        ([1], [3], ValueError, "strings"),
        ([1, 1], ["cat", "dog"], ValueError, "more than once"),
        (["a"], ["cat"], ValueError, "integer sample ids"),
    ],
)
def test_bad_relabel_changes_nothing(small_df, ids, labels, exc, match):
    ds = dj.Dataset(small_df, label="label", name="bad")
    fp = ds.fingerprint
    with pytest.raises(exc, match=match):
        ds.relabel(ids, labels)
    assert ds.version == 0 and ds.fingerprint == fp
    assert len(ds.history.changes) == 0


def test_declared_classes_are_enforced(small_df):
    ds = dj.Dataset(small_df, label="label", classes=["cat", "dog", "cow"])
    with pytest.raises(ValueError, match="'horse'"):
        ds.relabel([0], ["horse"])
    with pytest.raises(ValueError, match="not in the declared classes"):
        dj.Dataset(small_df, label="label", classes=["cat"])
    assert ds.version == 0


def test_integer_labels_type_checks():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": [0, 1, 2]})
    ds = dj.Dataset(df, label="label")
    ds.relabel([0], [2])
    ds.relabel([1], [np.int64(0)])
    with pytest.raises(ValueError, match="int64"):
        ds.relabel([2], ["1"])
    with pytest.raises(ValueError, match=r"got 1\.5"):
        ds.relabel([2], [1.5])
    assert ds.df["label"].tolist() == [2, 0, 2]
    assert ds.df["label"].dtype == np.int64


def test_integer_label_arrays_are_checked_as_one_array():
    """Issue 21: integer labels given as an array (a million added rows') are checked on
    their distinct values, with the errors of the value-by-value check."""
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": [0, 1, 2]})
    ds = dj.Dataset(df, label="label", classes=[0, 1, 2])
    ds.relabel([0, 1], np.array([2, 2], dtype=np.int32))
    with pytest.raises(ValueError, match=r"labels 7 are not in the declared classes"):
        ds.relabel([2], np.array([7]))
    free = dj.Dataset(df, label="label")
    with pytest.raises(ValueError, match=r"do not fit the label column's int64"):
        free.relabel([2], np.array([2**63 + 5], dtype=np.uint64))
    assert free.version == 0
    new = ds.add(pd.DataFrame({"x": [4.0, 5.0], "label": np.array([1, 0])}))
    with pytest.raises(ValueError, match=r"labels 9 are not in the declared classes"):
        ds.add(pd.DataFrame({"x": [6.0], "label": np.array([9])}))
    assert ds.df["label"].tolist() == [2, 2, 2, 1, 0] and len(new) == 2
    assert ds.df["label"].dtype == np.int64 and ds.version == 2


def test_categorical_labels_keep_dtype():
    df = pd.DataFrame(
        {"x": [1.0, 2.0], "label": pd.Categorical(["a", "b"], categories=["a", "b", "c"])}
    )
    ds = dj.Dataset(df, label="label")
    ds.relabel([0], ["c"])
    assert isinstance(ds.df["label"].dtype, pd.CategoricalDtype)
    with pytest.raises(ValueError, match="categories"):
        ds.relabel([0], ["z"])


def test_bad_add_changes_nothing(small_df):
    ds = dj.Dataset(small_df, label="label")
    with pytest.raises(ValueError, match="missing"):
        ds.add(pd.DataFrame({"x": [1.0], "label": ["cat"]}))
    with pytest.raises(ValueError, match="convert"):
        ds.add(pd.DataFrame({"x": ["not a number"], "n": [1], "label": ["cat"]}))
    assert ds.version == 0 and len(ds) == 20


def test_undo_redo_restore_exact_fingerprints(small_df):
    ds = dj.Dataset(small_df, label="label")
    fps = [ds.fingerprint]
    before = ds.df
    ds.relabel([0, 1], ["cow", "cow"])
    fps.append(ds.fingerprint)
    ds.remove([5, 2])
    fps.append(ds.fingerprint)
    ds.undo()
    assert ds.fingerprint == fps[1]
    ds.undo()
    assert ds.fingerprint == fps[0]
    pd.testing.assert_frame_equal(ds.df, before)
    with pytest.raises(ValueError, match="nothing to undo"):
        ds.undo()
    ds.redo()
    assert ds.fingerprint == fps[1]
    ds.redo()
    assert ds.fingerprint == fps[2]
    with pytest.raises(ValueError, match="nothing to redo"):
        ds.redo()
    assert ds.history.changes["op"].tolist() == [
        "relabel",
        "remove",
        "undo",
        "undo",
        "redo",
        "redo",
    ]


def test_new_change_clears_redo(small_df):
    ds = dj.Dataset(small_df, label="label")
    ds.relabel([0], ["cow" if ds.df.loc[0, "label"] != "cow" else "cat"])
    ds.undo()
    ds.remove([3])
    with pytest.raises(ValueError, match="nothing to redo"):
        ds.redo()


def test_changes_carry_provenance_and_delta(small_df):
    ds = dj.Dataset(small_df, label="label", name="prov")
    ds.relabel([7], ["cow" if ds.df.loc[7, "label"] != "cow" else "cat"], reason="looked")
    ch = ds.history.changes
    row = ch.iloc[0]
    assert row["op"] == "relabel" and row["source"] == "api" and row["ids"] == [7]
    assert row["reason"] == "looked" and row["version"] == 1
    assert len(row["fingerprint"]) == 16 and row["fingerprint"] == ds.fingerprint
    con = sqlite3.connect(".dcai/prov.sqlite")
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_widget_source_context(small_df):
    from dcai_jupyter.core._provenance import widget_source

    ds = dj.Dataset(small_df, label="label")
    with widget_source("SampleGrid"):
        ds.relabel([1], ["cow" if ds.df.loc[1, "label"] != "cow" else "cat"])
    ch = ds.history.changes.iloc[0]
    assert ch["source"] == "widget" and ch["widget"] == "SampleGrid"


def test_iterations_group_by_provenance(small_df):
    from dcai_jupyter.core._provenance import widget_source

    ds = dj.Dataset(small_df, label="label")
    ds.remove([1])
    ds.remove([2])
    with widget_source("LabelEditor"):
        ds.remove([3])
    it = ds.history.iterations
    assert it["n_changes"].tolist() == [2, 1]
    assert it["source"].tolist() == ["api", "widget"]
    assert it["rows_touched"].tolist() == [2, 1]


def test_checkout_any_version_matches_replay(small_df):
    ds = dj.Dataset(small_df, label="label", name="co")
    states = [ds.df]
    ds.relabel([0], ["cow" if ds.df.loc[0, "label"] != "cow" else "cat"])
    states.append(ds.df)
    ds.remove([4, 9])
    states.append(ds.df)
    ds.add(small_df.iloc[:2].reset_index(drop=True))
    states.append(ds.df)
    h = dj.open_history(".dcai/co.sqlite")
    for v, state in enumerate(states):
        pd.testing.assert_frame_equal(ds.history.checkout(v), state)
        pd.testing.assert_frame_equal(h.replay(small_df, to=v), state)
        pd.testing.assert_frame_equal(h.checkout(v, base=small_df), state)
    with pytest.raises(ValueError, match="base"):
        h.checkout(1)
    with pytest.raises(ValueError, match="no version 9"):
        ds.history.checkout(9)


def test_replay_refuses_other_base(small_df):
    ds = dj.Dataset(small_df, label="label", name="rb")
    ds.remove([0])
    other = small_df.copy()
    other.loc[3, "x"] = 99.0
    h = dj.open_history(".dcai/rb.sqlite")
    with pytest.raises(dj.BaseMismatchError, match="strict=False"):
        h.replay(other)
    out = h.replay(other, strict=False)
    assert 0 not in out.index and out.loc[3, "x"] == 99.0


def test_resume_replays_and_continues(small_df, capsys):
    ds = dj.Dataset(small_df, label="label", name="res")
    ds.relabel([0, 1], ["cow", "cow"])
    ds.remove([2])
    state, version = ds.df, ds.version
    ds.history.close()
    ds2 = dj.Dataset(small_df, label="label", name="res")
    assert "resumed 'res' at version 2" in capsys.readouterr().out
    pd.testing.assert_frame_equal(ds2.df, state)
    assert ds2.version == version
    ds2.undo()
    assert 2 in ds2.df.index
    assert ds2.version == version + 1


def test_resume_with_other_base_names_choices(small_df):
    ds = dj.Dataset(small_df, label="label", name="mm")
    ds.remove([0])
    changed = small_df.iloc[:10]
    with pytest.raises(dj.BaseMismatchError, match="resume=False"):
        dj.Dataset(changed, label="label", name="mm")
    fresh = dj.Dataset(changed, label="label", name="mm", resume=False)
    assert fresh.version == 0
    kept = [
        p.name
        for p in (fresh.history.path and __import__("pathlib").Path(".dcai")).glob("mm.*.sqlite")
    ]
    assert kept, "the old history must be kept aside"


def test_history_of_another_name(small_df):
    dj.Dataset(small_df, label="label", name="a", history="h.sqlite").remove([1])
    with pytest.raises(dj.HistoryError, match="dataset 'a'"):
        dj.Dataset(small_df, label="label", name="b", history="h.sqlite")


def test_bad_history_files(tmp_path, small_df):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite at all" * 10)
    with pytest.raises(dj.HistoryError, match="not a SQLite file"):
        dj.open_history(junk)
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (a)")
    con.commit()
    con.close()
    with pytest.raises(dj.HistoryError, match="not a dcai_jupyter history"):
        dj.open_history(other)
    newer = tmp_path / "newer.sqlite"
    dj.Dataset(small_df, label="label", name="n", history=newer).history.close()
    con = sqlite3.connect(newer)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(dj.HistoryError, match="newer dcai_jupyter"):
        dj.open_history(newer)
    with pytest.raises(dj.HistoryError, match="no history file"):
        dj.open_history(tmp_path / "missing.sqlite")


def test_corrupt_history_file(tmp_path, small_df):
    path = tmp_path / "c.sqlite"
    ds = dj.Dataset(small_df, label="label", name="c", history=path)
    for i in range(50):
        ds.relabel([i % 20], ["cat" if i % 2 else "dog"])
    ds.history.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(path.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # trash a b-tree page
    path.write_bytes(bytes(data))
    with pytest.raises(dj.HistoryError, match=r"corrupt|not a usable"):
        h = dj.open_history(path)
        h.replay(small_df)


def test_open_history_reads_without_writing(tmp_path, small_df):
    path = tmp_path / "ro.sqlite"
    ds = dj.Dataset(small_df, label="label", name="ro", history=path)
    ds.remove([0])
    h = dj.open_history(path)
    assert h.read_only and h.head == 1 and h.name == "ro"
    # the writer keeps going; the reader sees each commit
    ds.relabel([1], ["cow" if small_df.loc[1, "label"] != "cow" else "cat"])
    assert h.head == 2
    pd.testing.assert_frame_equal(h.replay(small_df), ds.df)
    ds.history.close()
    before = path.read_bytes()
    with pytest.raises(dj.HistoryError, match=r"opened read-only.*Dataset"):
        h.record_event("find_label_issues", {"k": 1})
    with pytest.raises(dj.HistoryError, match="opened read-only"):
        h.store.set_base("ro", {"fingerprint": "0" * 16})
    # a Dataset is refused the read-only handle up front (it would fail at its first write)
    with pytest.raises(dj.HistoryError, match="opened read-only"):
        dj.Dataset(small_df, label="label", name="ro", history=h)
    assert h.head == 2 and len(h.events) == 0
    h.close()
    assert path.read_bytes() == before


def test_open_history_does_not_create_or_fill_files(tmp_path):
    with pytest.raises(dj.HistoryError, match="no history file"):
        dj.open_history(tmp_path / "nothing.sqlite")
    assert not (tmp_path / "nothing.sqlite").exists()
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(dj.HistoryError, match="empty file"):
        dj.open_history(empty)
    assert empty.stat().st_size == 0
    with pytest.raises(dj.HistoryError, match="directory"):
        dj.open_history(tmp_path)
    with pytest.raises(ValueError, match="in-memory"):
        dj.History(":memory:", read_only=True)


def test_open_history_checks_no_more_than_it_reads(tmp_path, small_df):
    """Opening reads the header and metadata only; damage elsewhere is reported when read."""
    path = tmp_path / "deep.sqlite"
    ds = dj.Dataset(small_df, label="label", name="deep", history=path)
    for i in range(400):
        ds.relabel([i % 20], [f"round{i // 20}"])
    assert ds.version == 400
    ds.history.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    roots = max(r for (r,) in con.execute("SELECT rootpage FROM sqlite_master"))
    page = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    data = bytearray(path.read_bytes())
    assert len(data) > (roots + 2) * page, "the changes must span pages beyond the tables' roots"
    data[roots * page :] = b"\xff" * (len(data) - roots * page)  # trash every non-root page
    path.write_bytes(bytes(data))
    h = dj.open_history(path)  # no full-file scan: opening succeeds
    assert h.name == "deep" and h.base is not None and h.base["n_rows"] == 20
    with pytest.raises(dj.HistoryError, match=r"is corrupt.*restore a backup"):
        h.replay(small_df)
    with pytest.raises(dj.HistoryError, match="is corrupt"):
        _ = h.changes
    with pytest.raises(dj.HistoryError, match="is corrupt"):
        h.verify()
    with pytest.raises(dj.HistoryError, match="is corrupt"):
        dj.Dataset(small_df, label="label", name="deep", history=path)


def test_verify_passes_on_a_sound_file(tmp_path, small_df):
    path = tmp_path / "ok.sqlite"
    dj.Dataset(small_df, label="label", name="ok", history=path).remove([1])
    dj.open_history(path).verify()


def test_concurrent_writer_detected(tmp_path, small_df):
    """Another process records into the same file: this one's next change is refused.

    (A second Dataset on the file in the same process supersedes the first instead: see
    tests/test_rerun.py.)
    """
    p = tmp_path / "cw.sqlite"
    a = dj.Dataset(small_df, label="label", name="cw", history=p)
    small_df.to_pickle(tmp_path / "df.pkl")
    other = (
        "import sys, pandas as pd, dcai_jupyter as dj; df = pd.read_pickle(sys.argv[1]); "
        "dj.Dataset(df, label='label', name='cw', history=sys.argv[2]).remove([1])"
    )
    subprocess.run([sys.executable, "-c", other, str(tmp_path / "df.pkl"), str(p)], check=True)
    with pytest.raises(dj.ConcurrentWriteError, match="another process"):
        a.remove([2])
    assert 2 in a.df.index and a.version == 0


def test_fingerprint_is_content_not_order(small_df):
    t1 = Table.from_frame(small_df, "label")
    t2 = Table.from_frame(small_df.iloc[::-1], "label")
    assert t1.fingerprint() == t2.fingerprint()
    t3 = Table.from_frame(small_df.assign(x=small_df["x"] + 1e-12), "label")
    assert t3.fingerprint() != t1.fingerprint()
    t4 = Table.from_frame(small_df.astype({"n": "float64"}), "label")
    assert t4.fingerprint() != t1.fingerprint()  # dtype is part of the content


def test_hash_values_is_elementwise():
    arr = np.empty(4, dtype=object)
    arr[:] = ["a", 1, np.arange(3), None]
    whole = fpr.hash_values(arr)
    for i in range(4):
        one = np.empty(1, dtype=object)
        one[0] = arr[i]
        assert fpr.hash_values(one)[0] == whole[i]


def test_mixed_columns_round_trip_through_history(tmp_path):
    df = pd.DataFrame(
        {
            "img": [np.arange(4, dtype=np.uint8).reshape(2, 2) + i for i in range(4)],
            "raw": [b"\x00\x01", b"", b"abc", b"z"],
            "when": pd.date_range("2024-01-01", periods=4, freq="h"),
            "maybe": pd.array([1, None, 3, 4], dtype="Int64"),
            "label": [1.0, 2.0, 1.0, 2.0],
        }
    )
    ds = dj.Dataset(df, label="label", name="mix", history=tmp_path / "mix.sqlite")
    ds.remove([1, 2])
    ds.add(df.iloc[[2]].reset_index(drop=True))
    ds.relabel([0], [5.0])
    ds.undo()
    out = dj.open_history(tmp_path / "mix.sqlite").replay(df)
    pd.testing.assert_frame_equal(out, ds.df)
    assert out.loc[4, "raw"] == b"abc"
    assert np.array_equal(out.loc[4, "img"], df.loc[2, "img"])


def test_observers_called_after_each_change(small_df):
    ds = dj.Dataset(small_df, label="label")
    seen = []
    ds.observe(lambda d, ch: seen.append((ch["op"], ch["version"], ch["ids"])))
    ds.remove([3])
    ds.undo()
    assert seen == [("remove", 1, [3]), ("undo", 2, [3])]


def test_failed_write_applies_nothing(small_df, monkeypatch):
    ds = dj.Dataset(small_df, label="label", name="fw")
    fp = ds.fingerprint

    def boom(*a, **k):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(ds.history.store, "append", boom)
    with pytest.raises(sqlite3.OperationalError):
        ds.relabel([0], ["cow" if ds.df.loc[0, "label"] != "cow" else "cat"])
    with pytest.raises(sqlite3.OperationalError):
        ds.remove([0])
    assert ds.fingerprint == fp and ds.version == 0 and len(ds) == 20


def test_public_surface_and_layering():
    import subprocess
    import sys

    code = (
        "import sys, dcai_jupyter as dj, dcai_jupyter.core\n"
        "assert 'sklearn' not in sys.modules and 'anywidget' not in sys.modules, 'core must stay light'\n"
        "missing = [n for n in dj.__all__ if getattr(dj, n, None) is None]\n"
        "assert not missing, missing\n"
        "assert dj.ops.label_issue_chart is dj.label_issue_chart\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_ids_are_a_read_only_snapshot_and_classes_follow_changes(small_df):
    ds = dj.Dataset(small_df, label="label")
    ids = ds.ids
    with pytest.raises(ValueError):
        ids[0] = 99
    ds.remove([0])
    assert ids[0] == 0 and ds.ids[0] == 1  # the earlier array is unchanged
    assert ds.classes == ["cat", "cow", "dog"]
    ds.relabel(ds.ids, ["cat"] * len(ds))
    assert ds.classes == ["cat"]


def test_changes_use_none_for_absent_provenance(small_df):
    from dcai_jupyter.core._provenance import widget_source

    ds = dj.Dataset(small_df, label="label")
    with widget_source("SampleGrid"):
        ds.remove([1])
    ds.remove([2])
    ch = ds.history.changes
    assert ch["widget"].tolist() == ["SampleGrid", None]
    assert ch["cell_id"].tolist() == [None, None] and ch["code"].tolist() == [None, None]


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_positions_by_id_sorted_and_unsorted(order):
    ids = np.array([3, 8, 10, 42, 57]) if order == "sorted" else np.array([42, 3, 57, 10, 8])
    t = Table.from_frame(pd.DataFrame({"label": list("abcde")}, index=ids), "label")
    assert t.ids_sorted is (order == "sorted")
    assert t.positions([57, 3]).tolist() == [ids.tolist().index(57), ids.tolist().index(3)]
    assert t.positions([10]).tolist() == [ids.tolist().index(10)]
    for bad in ([9], [100], [3, 99], [-1]):
        with pytest.raises(KeyError, match="unknown sample id"):
            t.positions(bad)


def test_sorted_ids_survive_remove_undo_and_add(small_df):
    ds = dj.Dataset(small_df, label="label")
    assert ds._table.ids_sorted
    ds.remove([3, 7])
    ds.undo()
    assert ds._table.ids_sorted and ds.positions([3, 7]).tolist() == [3, 7]
    new = ds.add(small_df.iloc[:2].reset_index(drop=True))
    assert ds._table.ids_sorted and ds.positions(new).tolist() == [20, 21]


def test_has_origins_follows_rows_and_labels_an_operation_made(small_df):
    ds = dj.Dataset(small_df, label="label")
    assert ds.has_origins is False and ds.origins.empty
    ds.apply(ds.plan("pseudo_label").relabel([0], ["cat"], origin="pseudo").change())
    assert ds.has_origins is True and list(ds.origins.index) == [0]
    ds.undo()
    assert ds.has_origins is False and ds.origins.empty
    rows = small_df.head(2).drop(columns=[c for c in small_df.columns if c == "id"])
    plan = ds.plan("synthesize")
    plan.add(rows, origin="synthetic:test")
    ds.apply(plan.change())
    assert ds.has_origins is True and len(ds.origins) == 2
