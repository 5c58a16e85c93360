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


_USER_MODEL = '''
"""A user's own project module: an estimator class."""
from sklearn.linear_model import LogisticRegression


class SlowLR(LogisticRegression):
    """A notebook user's own model class (a subclass of a scikit-learn estimator)."""
'''

_USER_TRANSFORM = '''
"""A user's own project module: a registered transform."""
import dcai_jupyter as dj


@dj.register_transform
def nudge(rows, rng):
    rows = rows.copy()
    rows["x"] = rows["x"] + 0.001
    return rows
'''

_RECORD = """
import numpy as np, pandas as pd, dcai_jupyter as dj
from mymodels import SlowLR
from mytransforms import nudge
rng = np.random.default_rng(0)
x = rng.normal(size=120)
df = pd.DataFrame({"x": x, "z": rng.normal(size=120), "label": np.where(x > 0, "p", "n")})
df.loc[:5, "label"] = np.where(df.loc[:5, "x"] > 0, "n", "p")
ds = dj.Dataset(df, label="label", name="own", history="own.sqlite")
found = ds.find_label_issues(model=SlowLR(max_iter=500), cv=3)
ds.accept_suggestions(found, top=3)
ds.augment(transform=nudge, n=1, ids=list(ds.ids[:4]), progress=False)
ds.history.close()
df.to_csv("base.csv", index_label="sample_id")
"""


def test_recipe_replay_of_the_users_own_model_and_transform_asks_for_trust(tmp_path):
    """A history that records a user's own estimator class and registered function is
    refused by default (a history file never names code to import), with an error that
    says which option allows it; ``--trust PACKAGE`` and ``--register MODULE`` do."""
    (tmp_path / "mymodels.py").write_text(_USER_MODEL)
    (tmp_path / "mytransforms.py").write_text(_USER_TRANSFORM)
    rec = subprocess.run(
        [sys.executable, "-c", _RECORD], cwd=tmp_path, capture_output=True, text=True
    )
    assert rec.returncode == 0, rec.stderr

    def replay(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dcai_jupyter._cli", "replay", "own.sqlite", "--recipe",
             "--data", "base.csv", "--out", "fixed.csv", "--quiet", *extra],
            cwd=tmp_path, capture_output=True, text=True,
        )  # fmt: skip

    run = replay()
    assert run.returncode == 2 and "SlowLR" in run.stderr and "--trust PACKAGE" in run.stderr
    run = replay("--trust", "mymodels")
    assert run.returncode == 2 and "nudge" in run.stderr and "--register MODULE" in run.stderr
    assert not (tmp_path / "fixed.csv").exists()  # nothing half-written
    run = replay("--trust", "mymodels", "--register", "mytransforms")
    assert run.returncode == 0, run.stderr
    fixed = pd.read_csv(tmp_path / "fixed.csv", index_col=0)
    assert len(fixed) == 124  # the 4 augmented copies, made again by the user's function
    run = replay("--register", "no_such_module_here")
    assert run.returncode == 2 and "cannot import" in run.stderr
