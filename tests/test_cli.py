"""The `dcai` command on real history files and data files."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dcai_jupyter._cli", *args], capture_output=True, text=True
    )


@pytest.fixture
def recorded(tmp_path):
    df = pd.DataFrame(
        {
            "x": np.linspace(0, 1, 30),
            "label": pd.array([str(i % 3) for i in range(30)], dtype="str"),
        },
        index=pd.Index(np.arange(100, 130), name="sample_id"),
    )
    ds = dj.Dataset(df, label="label", name="digits", history=tmp_path / "digits.sqlite")
    ds.relabel([100, 101], ["2", "2"], reason="looked")
    ds.remove([105])
    ds.add(pd.DataFrame({"x": [0.5], "label": ["1"]}))
    df.to_csv(tmp_path / "base.csv")
    df.to_parquet(tmp_path / "base.parquet")
    return ds, df, tmp_path


def test_history_lists_iterations(recorded):
    _, _, tmp = recorded
    r = _run("history", str(tmp / "digits.sqlite"))
    assert r.returncode == 0, r.stderr
    assert "dataset 'digits'" in r.stdout and "head version 3" in r.stdout
    assert "relabel" in r.stdout and "script" in r.stdout  # source api, said readably
    r = _run("history", str(tmp / "digits.sqlite"), "--changes", "--json")
    rows = json.loads(r.stdout.splitlines()[-1])
    assert [x["op"] for x in rows] == ["relabel", "remove", "add"]
    assert [x["n_rows"] for x in rows] == [2, 1, 1]


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_replay_writes_exact_state(recorded, ext):
    ds, _, tmp = recorded
    out = tmp / f"fixed.{ext}"
    r = _run(
        "replay", str(tmp / "digits.sqlite"), "--data", str(tmp / f"base.{ext}"), "--out", str(out)
    )
    assert r.returncode == 0, r.stderr
    got = (
        pd.read_parquet(out)
        if ext == "parquet"
        else pd.read_csv(out, index_col=0, dtype={"label": "str"})
    )
    pd.testing.assert_frame_equal(got, ds.df, check_dtype=ext == "parquet")
    assert got.loc[100, "label"] == "2" and 105 not in got.index and 130 in got.index


def test_replay_to_version(recorded):
    _, _, tmp = recorded
    out = tmp / "v1.csv"
    r = _run(
        "replay",
        str(tmp / "digits.sqlite"),
        "--data",
        str(tmp / "base.csv"),
        "--out",
        str(out),
        "--to",
        "1",
    )
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(out, index_col=0, dtype={"label": "str"})
    assert len(got) == 30 and got.loc[101, "label"] == "2"


def test_cli_errors_are_clear(recorded):
    _, df, tmp = recorded
    other = tmp / "other.csv"
    df.assign(x=df["x"] * 2).to_csv(other)
    r = _run(
        "replay", str(tmp / "digits.sqlite"), "--data", str(other), "--out", str(tmp / "o.csv")
    )
    assert (
        r.returncode == 2 and "does not match the base" in r.stderr and "Traceback" not in r.stderr
    )
    r = _run("history", str(tmp / "nope.sqlite"))
    assert r.returncode == 2 and "no history file" in r.stderr
    (tmp / "junk.sqlite").write_text("hello")
    r = _run("history", str(tmp / "junk.sqlite"))
    assert r.returncode == 2 and "not a SQLite file" in r.stderr
    r = _run(
        "replay",
        str(tmp / "digits.sqlite"),
        "--data",
        str(tmp / "base.csv"),
        "--out",
        str(tmp / "o.csv"),
        "--to",
        "9",
    )
    assert r.returncode == 2 and "no version 9" in r.stderr


def test_console_script_installed():
    import shutil

    exe = shutil.which("dcai") or str(__import__("pathlib").Path(sys.executable).with_name("dcai"))
    r = subprocess.run([exe, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "replay" in r.stdout


def test_reviews_lists_the_review_state_in_effect(tmp_path):
    """``dcai reviews H``: the samples kept or marked reviewed per findings (from a cell, a
    widget), with when and where; ``--at`` an older version; ``--events`` every event."""
    df = pd.DataFrame({"x": np.arange(12.0), "label": np.arange(12) % 3})
    path = tmp_path / "rv.sqlite"
    ds = dj.Dataset(df, label="label", name="rv", history=path)
    frame = pd.DataFrame(
        {"score": np.linspace(1, 0, 12), "flag": np.arange(12) < 6}, index=pd.Index(ds.ids)
    )
    found = dj.Findings(frame, op="outliers", roles={"score": "score", "flag": "flag"}, version=0)
    ds.record_review(found, [0, 1], "kept")
    ds.relabel([11], [0])
    ds.record_review(found, [2], "reviewed")
    ds.revert_to(0)  # the review made at v1 is no longer in effect
    ds.history.close()
    r = _run("reviews", str(path), "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [(x["sample_id"], x["state"], x["version"]) for x in rows] == [
        (0, "kept", 0),
        (1, "kept", 0),
    ]
    assert rows[0]["findings"] == str(found.key) and rows[0]["source"] == "api"
    r = _run("reviews", str(path), "--at", "1")
    assert r.returncode == 0, r.stderr
    assert "review state at version 1: 3 samples kept or reviewed" in r.stdout
    assert "reviewed" in r.stdout and str(found.key) in r.stdout
    r = _run("reviews", str(path), "--events", "--json")
    events = json.loads(r.stdout)
    assert [(e["op"], e["in_effect"]) for e in events] == [
        ("mark_kept", True),
        ("mark_reviewed", False),
    ]


def test_reviews_fit_100_columns_and_say_where_in_the_history_words(tmp_path):
    """``dcai reviews`` reads like ``dcai history``: a long list of ids is cut to fit 100
    columns, the place is "LabelEditor in cell [4]", not four raw columns, times to the
    second."""
    from dcai_jupyter.core._provenance import widget_source

    df = pd.DataFrame({"x": np.arange(400.0), "label": np.arange(400) % 3})
    path = tmp_path / "wide.sqlite"
    ds = dj.Dataset(df, label="label", name="wide", history=path)
    frame = pd.DataFrame(
        {"score": np.linspace(1, 0, 400), "flag": np.ones(400, bool)}, index=pd.Index(ds.ids)
    )
    found = dj.Findings(frame, op="label_issues", roles={"score": "score", "flag": "flag"})
    with widget_source("LabelEditor", cell_id="3f2a9c1e-58d4", execution_count=4):
        ds.record_review(found, list(ds.ids[:300]), "reviewed")
    ds.history.close()
    for extra in ([], ["--events"]):
        r = _run("reviews", str(path), *extra)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert max(len(line) for line in lines) <= 100, r.stdout
        assert "LabelEditor in cell [4]" in r.stdout
        assert re.search(r"\d\d:\d\d:\d\d(\s|$)", lines[-1]) and "+00:00" not in r.stdout
    assert "…" in r.stdout  # the 300 ids are cut, not wrapped


def test_history_fits_100_columns_with_short_cell_ids_and_times_to_the_second(tmp_path):
    from dcai_jupyter.core._provenance import widget_source

    cell = "3f2a9c1e-58d4-4c0b-9d3e-0a1b2c3d4e5f"  # a JupyterLab cell id (nbformat 4.5)
    df = pd.DataFrame(
        {"x": np.arange(40.0), "label": pd.array([str(i % 4) for i in range(40)], dtype="str")}
    )
    ds = dj.Dataset(df, label="label", name="wide", history=tmp_path / "wide.sqlite")
    with widget_source("LabelEditor", cell_id=cell, execution_count=12):
        ds.relabel(list(range(0, 30, 2)), ["3"] * 15, reason="a long reason " * 10)
        ds.remove([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21])
    ds.add(pd.DataFrame({"x": [0.5], "label": ["1"]}))
    for extra in ([], ["--changes"]):
        r = _run("history", str(tmp_path / "wide.sqlite"), *extra)
        assert r.returncode == 0, r.stderr
        table = r.stdout.splitlines()[1:]  # the first line names the file
        assert len(table) >= 3, r.stdout
        assert max(len(line) for line in table) <= 100, "\n" + r.stdout
        assert cell not in r.stdout and "3f2a9c1e" in r.stdout  # the short id, not the UUID
        assert "LabelEditor" in r.stdout and "cell [12]" in r.stdout
        assert "times are local, all on " in r.stdout  # one day: the date once
        assert re.search(r"\b\d\d:\d\d:\d\d(?![.\d])", r.stdout), r.stdout
        assert not re.search(r":\d\d\.\d{3,}", r.stdout), r.stdout  # no fractions of a second
    # --json keeps everything: the full cell id
    r = _run("history", str(tmp_path / "wide.sqlite"), "--json")
    assert cell in r.stdout
