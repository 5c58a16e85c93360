"""Benchmark: does synthesizing rows help, and what does it cost? (``ds.synthesize``)

Two imbalanced sets:

- binary: ``make_classification(5000, weights=[0.9, 0.1])``;
- 5-class: ``make_classification(5000, n_features=20, n_informative=8, n_classes=5,
  weights=[0.4, 0.3, 0.15, 0.1, 0.05])``.

Protocol: 5-fold stratified cross-validation. In each fold the training part becomes a
``dj.Dataset``, is synthesized with ``ds.synthesize(...)`` (rows are added to the training
part only; the test fold is never touched), the model is fit on it and predicts the test
fold. Printed per model and method: F1 of the rarest class, macro F1, balanced accuracy,
synthetic rows added per fold and seconds. Methods:

- ``none``: no synthesis (the reference);
- ``imblearn``: imbalanced-learn's ``SMOTE().fit_resample`` called directly (the reference
  implementation of ``balance``; the numbers should match ``balance``);
- ``balance``: ``ds.synthesize(target="balance")``;
- ``weakest``: ``ds.synthesize(target="weakest", model=<the same model>, cv=3)``.

SMOTE trades precision on the rare classes for recall: balanced accuracy tends to rise
while the rare class's F1 can fall. The table shows both; nothing is asserted.

Run: ``.venv/bin/python benchmarks/synthesize.py`` (about 2-4 minutes on 2 cores).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

import dcai_jupyter as dj


def datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        "binary 90/10": make_classification(5000, weights=[0.9, 0.1], random_state=0),
        "5-class 40/30/15/10/5": make_classification(
            5000,
            n_features=20,
            n_informative=8,
            n_classes=5,
            weights=[0.4, 0.3, 0.15, 0.1, 0.05],
            random_state=0,
        ),
    }


def models() -> dict[str, object]:
    return {
        "LogisticRegression": LogisticRegression(max_iter=1000),
        "HistGradientBoosting": HistGradientBoostingClassifier(random_state=0),
    }


def resample(
    method: str, X: np.ndarray, y: np.ndarray, model: object
) -> tuple[np.ndarray, np.ndarray]:
    """The training part after synthesis by ``method``."""
    if method == "none":
        return X, y
    if method == "imblearn":
        from imblearn.over_sampling import SMOTE

        Xr, yr = SMOTE(random_state=0).fit_resample(X, y)
        return np.asarray(Xr), np.asarray(yr)
    cols = [f"f{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=cols)
    df["y"] = y
    ds = dj.Dataset(df, label="y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "nothing to synthesize"
        if method == "balance":
            ds.synthesize(target="balance", random_state=0)
        else:
            ds.synthesize(
                target="weakest", model=clone(model), cv=3, progress=False, random_state=0
            )
    out = ds.df
    return out[cols].to_numpy(), out["y"].to_numpy()


def evaluate(X: np.ndarray, y: np.ndarray, model: object, method: str) -> dict[str, float]:
    pred = np.empty_like(y)
    added = []
    t0 = time.perf_counter()
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        Xt, yt = resample(method, X[tr], y[tr], model)
        added.append(len(yt) - len(tr))
        pred[te] = clone(model).fit(Xt, yt).predict(X[te])
    rare = int(np.argmin(np.bincount(y)))
    per_class = f1_score(y, pred, average=None)
    return {
        "rare-class F1": float(per_class[rare]),
        "macro F1": float(f1_score(y, pred, average="macro")),
        "balanced acc": float(balanced_accuracy_score(y, pred)),
        "rows added/fold": float(np.mean(added)),
        "seconds": time.perf_counter() - t0,
    }


def timing() -> None:
    X, y = make_classification(20000, n_features=20, weights=[0.9, 0.1], random_state=1)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(20)])
    df["y"] = y
    for target in ("balance", "weakest"):
        ds = dj.Dataset(df, label="y")
        t0 = time.perf_counter()
        new = ds.synthesize(target=target, progress=False)
        print(
            f"ds.synthesize(target={target!r}) on 20,000 rows x 20: {time.perf_counter() - t0:.2f} s, "
            f"{len(new)} rows added"
        )


def main() -> None:
    rows = []
    with threadpool_limits(1):
        for dname, (X, y) in datasets().items():
            for mname, model in models().items():
                for method in ("none", "imblearn", "balance", "weakest"):
                    r = evaluate(X, y, model, method)
                    rows.append({"data": dname, "model": mname, "method": method, **r})
                    print(
                        f"{dname:22s} {mname:20s} {method:8s} "
                        + "  ".join(
                            f"{k} {v:.4f}" if k != "seconds" else f"{v:.1f}s" for k, v in r.items()
                        ),
                        flush=True,
                    )
        table = pd.DataFrame(rows).set_index(["data", "model", "method"])
        print()
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print(
                table.round(
                    {
                        "rare-class F1": 4,
                        "macro F1": 4,
                        "balanced acc": 4,
                        "rows added/fold": 0,
                        "seconds": 1,
                    }
                )
            )
        base = table.xs("none", level="method")
        print("\nchange vs none (positive = better):")
        for method in ("balance", "weakest"):
            d = (
                table.xs(method, level="method")[["rare-class F1", "macro F1", "balanced acc"]]
                - base[["rare-class F1", "macro F1", "balanced acc"]]
            )
            print(f"-- {method}")
            print(d.round(4).to_string())
        print()
        timing()


if __name__ == "__main__":
    main()
