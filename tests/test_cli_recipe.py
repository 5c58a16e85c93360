"""``dcai replay PATH --recipe --data next.csv --out fixed.csv`` on a real history file."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd

import dcai_jupyter as dj


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dcai_jupyter._cli", *args], capture_output=True, text=True
    )


def test_recipe_replay_on_the_command_line(tmp_path):
    df = pd.DataFrame(
        {"x": np.linspace(0, 1, 30), "label": [str(i % 3) for i in range(30)]},
        index=pd.Index(np.arange(100, 130), name="sample_id"),
    )
    ds = dj.Dataset(df, label="label", name="digits", history=tmp_path / "digits.sqlite")
    ds.relabel([100, 101], ["2", "2"], reason="looked")
    ds.remove([105, 106])
    df.to_csv(tmp_path / "base.csv")
    nxt = df.copy()
    nxt.loc[101, "x"] = 5.0  # changed since the decision
    nxt = nxt.drop(index=[106])
    nxt.loc[200] = [0.5, "1"]  # a new row
    nxt.to_csv(tmp_path / "next.csv")

    run = _run(
        "replay", str(tmp_path / "digits.sqlite"), "--recipe", "--data", str(tmp_path / "next.csv"),
        "--out", str(tmp_path / "fixed.csv"), "--base", str(tmp_path / "base.csv"),
        "--review", str(tmp_path / "review.csv"), "--quiet",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "applied 2, skipped 0, needs review 2" in out
    assert "review   v1 relabel sample 101" in out and "changed" in out
    assert "review   v2 remove sample 106" in out and "not in the new data" in out
    fixed = pd.read_csv(tmp_path / "fixed.csv", index_col=0, dtype={"label": str})
    assert fixed.at[100, "label"] == "2"  # carried over
    assert fixed.at[101, "label"] == "1"  # left for review
    assert 105 not in fixed.index and 200 in fixed.index
    review = pd.read_csv(tmp_path / "review.csv")
    assert sorted(review["sample_id"]) == [101, 106]

    # without --base the CLI says what it could compare
    run = _run(
        "replay", str(tmp_path / "digits.sqlite"), "--recipe", "--data", str(tmp_path / "next.csv"),
        "--out", str(tmp_path / "fixed2.csv"), "--quiet",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "without --base" in run.stdout

    # a clear error for data with other columns, and nothing written
    nxt.drop(columns=["x"]).to_csv(tmp_path / "bad.csv")
    run = _run(
        "replay", str(tmp_path / "digits.sqlite"), "--recipe", "--data", str(tmp_path / "bad.csv"),
        "--out", str(tmp_path / "bad_out.csv"),
    )  # fmt: skip
    assert run.returncode == 2
    assert "columns differ" in run.stderr and "missing ['x']" in run.stderr
    assert not (tmp_path / "bad_out.csv").exists()
