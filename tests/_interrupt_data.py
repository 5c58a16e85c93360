"""The data the stop-button tests interrupt operations on (tests/test_interrupt.py in this
process, tests/test_kernel_interrupt.py in a real kernel), and the history file's rows to
compare before and after."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
from sklearn.datasets import make_classification


def labelled_frame(n: int, n_features: int, n_informative: int, n_classes: int) -> pd.DataFrame:
    """``n`` generated rows (columns ``x0``, ``x1``, ... and ``label``) with something to find:
    every 9th label moved to the next class, and the first 4 rows again at the end (exact
    copies): ``n + 4`` rows."""
    X, y = make_classification(
        n_samples=n,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=0,
        n_classes=n_classes,
        random_state=0,
    )
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(n_features)])
    y[::9] = (y[::9] + 1) % n_classes  # label errors to find
    df["label"] = y
    return pd.concat([df, df.iloc[:4]], ignore_index=True)  # exact copies to find


def history_rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of the history file at ``path`` by table, read with a connection of its own."""
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: con.execute(f"SELECT * FROM {t}").fetchall() for t in sorted(names)}
    finally:
        con.close()
