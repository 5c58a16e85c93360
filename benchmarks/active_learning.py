"""Active learning: dcai_jupyter's query strategies vs scikit-activeml (issue 9).

Model: ``LogisticRegression`` in a ``StandardScaler`` pipeline. Cases: sklearn
``load_digits()`` and ``make_classification(5000, 20, n_informative=10, n_classes=5,
random_state=0)``. Each case: a stratified 70/30 split (seed 0); 20 stratified initial
labels from the training part (seeds 0-9); 30 rounds of 10 queries from the rest of the
training part (the pool), the model refit on the labeled rows each round.

Per strategy: test accuracy per round (31 points, 20..320 labels), the area under the
learning curve (trapezoid area / label range, "AULC") and the labels needed to reach 95 %
of the accuracy of the model fit on the whole training part (">320" when never reached).
Strategies: every one of ``dcai_jupyter.ops.STRATEGIES`` (pure array functions on the
model's pool probabilities) plus scikit-activeml's ``UncertaintySampling(margin)`` and
``RandomSampling``, in the same run. Then one round of ``ds.suggest_samples`` on a
20,000-row pool (LogisticRegression and the default model), timed.

Numbers are printed, never asserted. Run: ``python benchmarks/active_learning.py``
(``--seeds 0,1,2`` for a quicker look; ``--jobs`` workers, 2 by default); about 10 min on
2 busy cores.

Measured 2026-12-01 (2 shared cores, load ~9; AULC means over seeds 0-9):

=================  ======  =======  =====================  ==========
strategy           digits  synth.   labels to 95 % digits  synth. 95%
=================  ======  =======  =====================  ==========
auto (=diverse)    0.9297  0.5155   96 (10/10)             2/10
margin             0.9207  0.5056   110 (10/10)            1/10
least_confidence   0.9104  0.4952   135 (10/10)            0/10
entropy            0.8994  0.4841   163 (10/10)            0/10
random             0.8849  0.4949   217 (9/10)             0/10
skactiveml margin  0.9207  0.5056   110 (10/10)            1/10
skactiveml random  0.8895  0.4977   199 (10/10)            1/10
=================  ======  =======  =====================  ==========

auto - margin: +0.0090 (digits); auto - random: +0.0206 (synthetic). One round of
``ds.suggest_samples(k=10)`` on a 20,000-row pool: 0.39 s (LogisticRegression), 0.43 s
(default model).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from dcai_jupyter.ops import STRATEGIES, select_samples

N_INIT = 20
ROUNDS = 30
BATCH = 10
OURS = list(STRATEGIES)
REFS = ["skactiveml margin", "skactiveml random"]


def model() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    d = load_digits()
    Xs, ys = make_classification(5000, 20, n_informative=10, n_classes=5, random_state=0)
    return {"digits": (d.data, d.target), "synthetic": (Xs, ys)}


def split(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(train_test_split(X, y, test_size=0.3, random_state=0, stratify=y))


def initial(y_train: np.ndarray, seed: int) -> np.ndarray:
    idx = np.arange(len(y_train))
    lab, _ = train_test_split(idx, train_size=N_INIT, random_state=seed, stratify=y_train)
    return np.sort(lab)


def run(case: str, strategy: str, seed: int, data: tuple[np.ndarray, ...]) -> list[float]:
    """Test accuracy after each round (ROUNDS + 1 points)."""
    Xtr, Xte, ytr, yte = data
    labeled = np.zeros(len(ytr), dtype=bool)
    labeled[initial(ytr, seed)] = True
    accs: list[float] = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qs: Any = None
        sk_clf: Any = None
        if strategy.startswith("skactiveml"):
            from skactiveml.classifier import SklearnClassifier
            from skactiveml.pool import RandomSampling, UncertaintySampling

            qs = (
                UncertaintySampling(method="margin_sampling", random_state=seed)
                if strategy.endswith("margin")
                else RandomSampling(random_state=seed)
            )
            sk_clf = SklearnClassifier(model(), classes=np.unique(ytr), random_state=seed)
        for r in range(ROUNDS + 1):
            clf = clone(model()).fit(Xtr[labeled], ytr[labeled])
            accs.append(float((clf.predict(Xte) == yte).mean()))
            if r == ROUNDS:
                break
            pool = np.flatnonzero(~labeled)
            if qs is not None:
                y_missing = np.where(labeled, ytr.astype(float), np.nan)
                if strategy.endswith("margin"):
                    got = qs.query(Xtr, y_missing, sk_clf, batch_size=BATCH)
                else:
                    got = qs.query(Xtr, y_missing, batch_size=BATCH)
                labeled[np.asarray(got)] = True
                continue
            probs = clf.predict_proba(Xtr[pool])
            picks, _, _ = select_samples(
                probs, BATCH, strategy=strategy, X=Xtr[pool], random_state=seed
            )
            labeled[pool[picks]] = True
    return accs


def aulc(accs: list[float]) -> float:
    x = N_INIT + BATCH * np.arange(len(accs))
    a = np.asarray(accs)
    area = float(np.sum((a[1:] + a[:-1]) / 2.0 * np.diff(x)))
    return area / float(x[-1] - x[0])


def labels_to(accs: list[float], target: float) -> float:
    for i, a in enumerate(accs):
        if a >= target:
            return float(N_INIT + BATCH * i)
    return float("nan")


def time_round(n_pool: int = 20_000) -> dict[str, float]:
    """One ``ds.suggest_samples(k=10)`` on a ``n_pool``-row pool with 20 labeled rows."""
    import dcai_jupyter as dj

    X, y = make_classification(n_pool + N_INIT, 20, n_informative=10, n_classes=5, random_state=1)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    lab = np.full(len(df), np.nan)
    first = initial(y, 0)
    lab[first] = y[first]
    df["label"] = lab
    ds = dj.Dataset(df, label="label")
    out: dict[str, float] = {}
    for name, m in (("LogisticRegression", model()), ("default model", None)):
        ds.suggest_samples(k=10, model=m)  # warm imports
        t = time.perf_counter()
        ds.suggest_samples(k=10, model=m)
        out[name] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--strategies", default=",".join(OURS + REFS))
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    strategies = args.strategies.split(",")
    data = {name: split(*xy) for name, xy in cases().items()}
    full = {}
    for name, (Xtr, Xte, ytr, yte) in data.items():
        with threadpool_limits(1):
            full[name] = float((clone(model()).fit(Xtr, ytr).predict(Xte) == yte).mean())
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {args.jobs} workers")
    for name, (Xtr, _, _, _) in data.items():
        print(f"{name}: pool {len(Xtr) - N_INIT} rows, full-train accuracy {full[name]:.4f}")
    tasks = [(c, s, seed) for c in data for s in strategies for seed in seeds]
    t0 = time.perf_counter()
    res = Parallel(n_jobs=args.jobs)(delayed(run)(c, s, seed, data[c]) for c, s, seed in tasks)
    wall = time.perf_counter() - t0
    rows = []
    for (c, s, seed), accs in zip(tasks, res, strict=True):
        rows.append(
            {
                "case": c,
                "strategy": s,
                "seed": seed,
                "aulc": aulc(accs),
                "final": accs[-1],
                "to95": labels_to(accs, 0.95 * full[c]),
            }
        )
    table = pd.DataFrame(rows)
    summary = table.groupby(["case", "strategy"], sort=False).agg(
        aulc=("aulc", "mean"),
        aulc_sd=("aulc", "std"),
        final_acc=("final", "mean"),
        labels_to_95=("to95", lambda v: float(np.nanmean(v)) if np.isfinite(v).any() else np.nan),
        reached_95=("to95", lambda v: f"{int(np.isfinite(v).sum())}/{len(v)}"),
    )
    pd.set_option("display.width", 140)
    print(f"\nmeans over seeds {seeds} ({wall:.0f} s):")
    print(summary.round(4).to_string())
    m = summary["aulc"]
    for c in data:
        ref_m = m.get((c, "margin"), np.nan)
        ref_r = m.get((c, "random"), np.nan)
        a = m.get((c, "auto"), np.nan)
        print(f"{c}: auto - margin = {a - ref_m:+.4f}, auto - random = {a - ref_r:+.4f}")
    print("\none round of ds.suggest_samples(k=10) on a 20,000-row pool:")
    for name, sec in time_round().items():
        print(f"  {name}: {sec:.2f} s")


if __name__ == "__main__":
    main()
