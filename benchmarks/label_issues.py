"""Label-issue detection: dcai_jupyter vs cleanlab (issues 3 and 7).

Cases: sklearn ``load_digits()`` and ``make_classification(n_samples=20000, n_features=20,
n_informative=10, n_classes=5, random_state=0)``; noise: exactly 10 % / 20 % of the rows
moved to a uniformly chosen other class (u10 / u20), and 20 % of each class c moved to
(c + 1) % K (a20); noise seed 0 (``--seeds 0,1,2`` adds more).

Methods:
  (a) cleanlab ``find_label_issues`` (default: prune_by_noise_rate) on 5-fold
      cross-validated LogisticRegression(StandardScaler) probabilities;
  (b) ``dcai_jupyter.find_label_issues`` on the same probabilities;
  (c) the default pipeline: ``out_of_sample_pred_probs(model=None)`` (the default
      ensemble) + ``dcai_jupyter.find_label_issues`` (= ``default_label_issues``);
  (d) cleanlab ``find_label_issues`` on the default pipeline's probabilities (those of c).

(a) vs (d) shows what the model contributes (same algorithm, other probabilities);
(d) vs (c) what our algorithm does beyond cleanlab's on the same probabilities.

Per case: precision, recall, F1 of ``is_issue`` against the flipped rows, average
precision of the ranking (low ``label_quality`` / cleanlab's self-confidence = suspicious)
and wall time (a, b: cross-validation + detection; c, d: ensemble probabilities +
detection). Then the mean F1 of each method and the differences, and the 20k-case
pipeline times of (c) and (a) from this run.

Numbers are printed, never asserted. Run: ``python benchmarks/label_issues.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from typing import Any

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from dcai_jupyter.ops import default_label_issues, find_label_issues, out_of_sample_pred_probs

NOISES = ("u10", "u20", "a20")
METHODS = ("a", "b", "c", "d")


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "digits":
        d = load_digits()
        return d.data.astype(np.float64), d.target.astype(np.int64)
    X, y = make_classification(
        n_samples=20000, n_features=20, n_informative=10, n_classes=5, random_state=0
    )
    return X, y.astype(np.int64)


def add_noise(y: np.ndarray, kind: str, seed: int) -> np.ndarray:
    """Noisy copy of ``y``: u10/u20 move exactly 10/20 % of rows to a uniform other class,
    a20 moves 20 % of each class c to (c + 1) % K."""
    rng = np.random.default_rng(seed)
    k = int(y.max()) + 1
    noisy = y.copy()
    if kind in ("u10", "u20"):
        m = round((0.1 if kind == "u10" else 0.2) * len(y))
        idx = rng.choice(len(y), m, replace=False)
        noisy[idx] = (y[idx] + rng.integers(1, k, size=m)) % k
    elif kind == "a20":
        for c in range(k):
            members = np.flatnonzero(y == c)
            idx = rng.choice(members, round(0.2 * len(members)), replace=False)
            noisy[idx] = (c + 1) % k
    else:
        raise ValueError(kind)
    return noisy


def lr_probs(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    with threadpool_limits(1):
        return cross_val_predict(model, X, y, cv=cv, method="predict_proba")


def cleanlab_issues(y: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import cleanlab.filter
    from cleanlab.rank import get_label_quality_scores

    mask = cleanlab.filter.find_label_issues(y, probs)
    return mask, get_label_quality_scores(y, probs)


def scores(truth: np.ndarray, flagged: np.ndarray, quality: np.ndarray) -> dict[str, float]:
    p, r, f, _ = precision_recall_fscore_support(truth, flagged, average="binary", zero_division=0)
    return {"P": p, "R": r, "F1": f, "AP": average_precision_score(truth, -quality)}


def run_case(name: str, X: np.ndarray, y: np.ndarray, kind: str, seed: int) -> dict[str, Any]:
    noisy = add_noise(y, kind, seed)
    truth = noisy != y
    out: dict[str, Any] = {"case": f"{name} {kind}", "n_flipped": int(truth.sum())}

    t0 = time.perf_counter()
    probs = lr_probs(X, noisy)
    t_cv = time.perf_counter() - t0

    t0 = time.perf_counter()
    mask, q = cleanlab_issues(noisy, probs)
    out["a"] = {**scores(truth, mask, q), "time": t_cv + time.perf_counter() - t0}

    t0 = time.perf_counter()
    ours = find_label_issues(noisy, probs).sort_index()
    out["b"] = {
        **scores(truth, ours["is_issue"].to_numpy(), ours["label_quality"].to_numpy()),
        "time": t_cv + time.perf_counter() - t0,
    }

    t0 = time.perf_counter()
    ens = out_of_sample_pred_probs(X, noisy, progress=False)  # the default ensemble
    t_ens = time.perf_counter() - t0

    t0 = time.perf_counter()
    full = find_label_issues(noisy, ens).sort_index()  # = default_label_issues(X, noisy)
    out["c"] = {
        **scores(truth, full["is_issue"].to_numpy(), full["label_quality"].to_numpy()),
        "time": t_ens + time.perf_counter() - t0,
    }

    t0 = time.perf_counter()
    mask, q = cleanlab_issues(noisy, ens)
    out["d"] = {**scores(truth, mask, q), "time": t_ens + time.perf_counter() - t0}
    return out


def print_table(rows: list[dict[str, Any]], seed: int) -> float:
    print(f"\nnoise seed {seed}")
    head = f"{'case':<14}{'flipped':>8} | " + " | ".join(
        f"{'(' + m + ')':<3}{'P':>6}{'R':>6}{'F1':>6}{'AP':>6}{'s':>6}" for m in METHODS
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        cells = " | ".join(
            "   "
            + "".join(f"{row[m][k]:>6.3f}" for k in ("P", "R", "F1", "AP"))
            + f"{row[m]['time']:>6.2f}"
            for m in METHODS
        )
        print(f"{row['case']:<14}{row['n_flipped']:>8} | {cells}")
    f1 = {m: float(np.mean([r[m]["F1"] for r in rows])) for m in METHODS}
    ap = {m: float(np.mean([r[m]["AP"] for r in rows])) for m in METHODS}
    worst = min(r["c"]["F1"] - r["a"]["F1"] for r in rows)
    print(
        f"mean F1: (a) cleanlab on CV LR {f1['a']:.3f}  (b) ours on the same probs "
        f"{f1['b']:.3f}  (c) default pipeline {f1['c']:.3f}  (d) cleanlab on (c)'s probs "
        f"{f1['d']:.3f}"
    )
    print(
        f"mean AP: (a) {ap['a']:.3f}  (b) {ap['b']:.3f}  (c) {ap['c']:.3f}  (d) {ap['d']:.3f}"
    )
    print(
        f"mean F1 (c) - (a) = {f1['c'] - f1['a']:+.3f}   (b) - (a) = {f1['b'] - f1['a']:+.3f}   "
        f"worst case (c) - (a) = {worst:+.3f}"
    )
    print(
        f"model vs algorithm: (d) - (a) = {f1['d'] - f1['a']:+.3f} (the ensemble's probabilities, "
        f"cleanlab's algorithm)   (c) - (d) = {f1['c'] - f1['d']:+.3f} (our algorithm, the "
        "same probabilities)"
    )
    return f1["c"] - f1["a"]


def timing_20k(repeat: int) -> None:
    X, y = load("synthetic")
    noisy = add_noise(y, "u10", 0)
    ours: list[float] = []
    theirs: list[float] = []
    ours2: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        probs = lr_probs(X, noisy)
        cleanlab_issues(noisy, probs)
        theirs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        default_label_issues(X, noisy, progress=False)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        default_label_issues(X, noisy, progress=False, n_jobs=2)
        ours2.append(time.perf_counter() - t0)
    print(f"\n20k x 20 (u10) pipeline wall time, {repeat} runs each (first / best):")
    print(f"  (c) default pipeline, n_jobs=None: {ours[0]:.2f} s / {min(ours):.2f} s")
    print(f"  (c) default pipeline, n_jobs=2:    {ours2[0]:.2f} s / {min(ours2):.2f} s")
    print(f"  (a) cleanlab (CV LR + find_label_issues): {theirs[0]:.2f} s / {min(theirs):.2f} s")
    print(
        f"  ratio (c)/(a), best of each: {min(ours) / min(theirs):.1f}x   (target for (c): <= 2.5 s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0", help="comma-separated noise seeds (default 0)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the 20k timing")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    try:
        load_avg = " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover
        load_avg = "?"
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus, load average {load_avg}")
    data = {name: load(name) for name in ("digits", "synthetic")}
    gains = []
    for seed in (int(s) for s in args.seeds.split(",")):
        rows = [run_case(n, *data[n], kind, seed) for n in data for kind in NOISES]
        gains.append(print_table(rows, seed))
    if len(gains) > 1:
        print(f"\nmean F1 gain (c) - (a) per seed: {[round(g, 3) for g in gains]}")
    timing_20k(args.repeat)


if __name__ == "__main__":
    main()
