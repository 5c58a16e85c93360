"""Remove data: near duplicates, outliers and pruning vs references measured in the same run (issue 8).

Near duplicates
    sklearn digits and ``make_classification(20000, 20, random_state=0)``, each with 90 exact
    and 90 near copies of distinct random rows appended (seed 0). Near copies: gaussian noise of
    sigma 0.1 / 0.5 / 1.0 pixel units on digits (every pixel, not clipped), 2 % of each
    feature's standard deviation on the synthetic set. Scored:

    - ``F1 set``: the rows in a duplicate set (ours: in a group; Datalab: ``is_near_duplicate_issue``)
      against the injected copies plus their sources, for both methods;
    - ``F1 removed`` (ours): the rows ``remove_duplicates`` would remove (non-keepers, keep="first")
      against the injected copies;
    - flagged rows on the clean data (no copies), wall (CPU) seconds and the CPU-time ratio
      ours / Datalab measured in the same run (the machine may be shared: CPU time and the
      ratio are the fairer numbers);
    - ``threshold``: ours' global distance cut (the local ratio test has its own, see
      ``dcai_jupyter/ops/_duplicates.py``).

    Reference: cleanlab ``Datalab.find_issues(features=X, issue_types={"near_duplicate": {}})``.

Outliers
    1 %, 2 %, 5 % rows drawn uniformly in the feature box (per-feature min..max) appended to
    digits and to ``make_classification(20000, random_state=0)``; the rate is not given to
    ours. F1 of the flagged rows, and the share of a clean dataset flagged. References:
    Datalab's outlier issue (``is_outlier_issue``) and ``IsolationForest(contamination=<true
    rate>)``.

Outliers with skewed numerics
    A numeric table (3,000 rows: 4 normal and 4 lognormal columns, correlated) and the
    issue's mixed table (age with 5 % missing, a job, 40 cities, a lognormal income, a
    6-word review), 0 / 1 / 2 / 5 % of rows outliers: two columns of the row moved 5-8
    standard deviations up or down on the column's natural scale (the log scale for a
    lognormal column: e^(5 sigma) .. e^(8 sigma) times too large or too small; in the mixed
    table a city no other row has). Two seeds each. F1 of the flagged rows (the rate is not
    given to ours), rows flagged at 0 %; references as above (Datalab on the numeric
    table; IsolationForest on one-hot + imputed numbers for the mixed one).

Pruning
    digits and ``make_classification(5000, 20, n_informative=10, n_classes=5, random_state=0)``,
    3 stratified splits (train 2/3, test 1/3), ``StandardScaler + LogisticRegression``: test
    accuracy of the model trained on the full training part, on a stratified random part
    (mean of 3 seeds), and on what ``ds.prune(keep, method="auto")`` keeps, at keep 0.5 and 0.3.

Numbers are printed, never asserted. Run: ``python benchmarks/remove.py`` (``--only dup``,
``outliers``, ``skewed`` or ``prune`` for one part).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import IsolationForest
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

import dcai_jupyter as dj
from dcai_jupyter.ops import find_duplicates, find_outliers, prune_mask
from dcai_jupyter.ops._prune import default_prune_model

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _tables import issue_table  # the one copy, shared with the tests

N_EXACT = N_NEAR = 90


def f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = int((pred & truth).sum())
    denom = int(pred.sum()) + int(truth.sum())
    return 1.0 if denom == 0 else 2 * tp / denom


def digits() -> tuple[np.ndarray, np.ndarray]:
    d = load_digits()
    return d.data.astype(np.float64), d.target.astype(np.int64)


def synthetic(n: int = 20000) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(n_samples=n, n_features=20, random_state=0)
    return X, y.astype(np.int64)


class Clock:
    """Wall and CPU seconds of a block (the machine is shared: CPU time is the fairer one)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def __str__(self) -> str:
        return f"{self.wall:.2f} ({self.cpu:.2f})"


def datalab(X: np.ndarray, y: np.ndarray, issue: str) -> tuple[np.ndarray, Clock]:
    from cleanlab import Datalab

    clock = Clock().__enter__()
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        lab = Datalab(data={"label": y}, label_name="label", verbosity=0)
        lab.find_issues(features=X, issue_types={issue: {}})
        flags = lab.get_issues(issue)[f"is_{issue}_issue"].to_numpy(dtype=bool)
    clock.__exit__()
    return flags, clock


def table(rows: list[dict[str, Any]], title: str) -> None:
    print(f"\n## {title}\n")
    frame = pd.DataFrame(rows)
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


# ---------------------------------------------------------------------------- near duplicates
def inject_copies(
    X: np.ndarray, y: np.ndarray, noise: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """X with exact and near copies appended; the truth masks (copies; copies + sources)."""
    rng = np.random.default_rng(seed)
    n = len(X)
    src = rng.choice(n, N_EXACT + N_NEAR, replace=False)
    near = X[src[N_EXACT:]] + rng.normal(size=(N_NEAR, X.shape[1])) * noise
    Xa = np.vstack([X, X[src[:N_EXACT]], near])
    ya = np.concatenate([y, y[src]])
    copies = np.zeros(len(Xa), dtype=bool)
    copies[n:] = True
    in_set = copies.copy()
    in_set[src] = True
    return Xa, ya, copies, in_set


def bench_duplicates() -> None:
    rows = []
    dX, dy = digits()
    sX, sy = synthetic()
    cases = [
        ("digits", dX, dy, "sigma 0.1", 0.1),
        ("digits", dX, dy, "sigma 0.5", 0.5),
        ("digits", dX, dy, "sigma 1.0", 1.0),
        ("synthetic 20k", sX, sy, "2 % of std", 0.02 * sX.std(axis=0)),
    ]
    for name, X, y, label, noise in cases:
        Xa, ya, copies, in_set = inject_copies(X, y, np.asarray(noise))
        with Clock() as t_ours:
            ours = find_duplicates(Xa)
        grouped = ours["group"].notna().to_numpy()
        removed = ours["is_duplicate"].to_numpy()
        lab, t_lab = datalab(Xa, ya, "near_duplicate")
        rows.append(
            {
                "data": name,
                "near copies": label,
                "ours F1 set": f1(grouped, in_set),
                "ours F1 removed": f1(removed, copies),
                "Datalab F1 set": f1(lab, in_set),
                "ours s (cpu)": str(t_ours),
                "Datalab s (cpu)": str(t_lab),
                "cpu ours/Datalab": t_ours.cpu / t_lab.cpu,
                "threshold": ours.attrs["threshold"],
            }
        )
    for name, X, y in (("digits", dX, dy), ("synthetic 20k", sX, sy)):
        with Clock() as t_ours:
            ours = find_duplicates(X)
        lab, t_lab = datalab(X, y, "near_duplicate")
        rows.append(
            {
                "data": name,
                "near copies": "clean (flagged rows)",
                "ours F1 set": float(ours["group"].notna().sum()),
                "ours F1 removed": float(ours["is_duplicate"].sum()),
                "Datalab F1 set": float(lab.sum()),
                "ours s (cpu)": str(t_ours),
                "Datalab s (cpu)": str(t_lab),
                "cpu ours/Datalab": t_ours.cpu / t_lab.cpu,
                "threshold": ours.attrs["threshold"],
            }
        )
    table(rows, "Near duplicates (90 exact + 90 near copies; clean rows: counts of flagged rows)")


# ---------------------------------------------------------------------------- outliers
def inject_uniform(X: np.ndarray, y: np.ndarray, rate: float, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    m = round(rate * len(X))
    U = rng.uniform(X.min(axis=0), X.max(axis=0), size=(m, X.shape[1]))
    Xa = np.vstack([X, U])
    ya = np.concatenate([y, rng.choice(y, m)])
    truth = np.r_[np.zeros(len(X), dtype=bool), np.ones(m, dtype=bool)]
    return Xa, ya, truth


def bench_outliers() -> None:
    rows = []
    for name, (X, y) in (("digits", digits()), ("synthetic 20k", synthetic())):
        for rate in (0.01, 0.02, 0.05):
            Xa, ya, truth = inject_uniform(X, y, rate)
            with Clock() as t_ours:
                ours = find_outliers(Xa)["is_outlier"].to_numpy()
            lab, t_lab = datalab(Xa, ya, "outlier")
            with threadpool_limits(1):
                iso = IsolationForest(contamination=rate, random_state=0).fit(Xa).predict(Xa) < 0
            rows.append(
                {
                    "data": name,
                    "outliers": f"{rate:.0%}",
                    "ours F1": f1(ours, truth),
                    "Datalab F1": f1(lab, truth),
                    "IsolationForest (true rate) F1": f1(iso, truth),
                    "ours s (cpu)": str(t_ours),
                    "Datalab s (cpu)": str(t_lab),
                }
            )
        with Clock() as t_ours:
            ours = find_outliers(X)["is_outlier"].to_numpy()
        lab, t_lab = datalab(X, y, "outlier")
        rows.append(
            {
                "data": name,
                "outliers": "clean: % flagged",
                "ours F1": 100 * ours.mean(),
                "Datalab F1": 100 * lab.mean(),
                "IsolationForest (true rate) F1": float("nan"),
                "ours s (cpu)": str(t_ours),
                "Datalab s (cpu)": str(t_lab),
            }
        )
    table(rows, "Outliers (uniform rows in the feature box; rate not given to ours)")


# ---------------------------------------------------------------------------- skewed numerics
def skewed_numeric(n: int, rate: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows of 4 normal and 4 lognormal columns (correlated; sigma 0.5..1.2 on the log
    scale), a share ``rate`` of them outliers: two columns of the row moved 5..8 standard
    deviations up or down on the column's natural scale (the log scale for a lognormal
    column: a value e^(5 sigma) .. e^(8 sigma) times too large or too small)."""
    rng = np.random.default_rng(seed)
    d = 8
    C = rng.normal(size=(d, d)) * 0.3 + np.eye(d)
    Z = rng.normal(size=(n, d)) @ C / np.sqrt((C**2).sum(axis=0))
    out = rng.choice(n, round(rate * n), replace=False)
    for i in out:
        cols = rng.choice(d, 2, replace=False)
        Z[i, cols] += rng.choice([-1.0, 1.0], 2) * rng.uniform(5, 8, 2)
    X = Z.copy()
    X[:, 4:] = np.exp(3 + rng.uniform(0.5, 1.2, 4) * Z[:, 4:])
    truth = np.zeros(n, dtype=bool)
    truth[out] = True
    return X, truth


def bench_skewed() -> None:
    rows = []
    for rate in (0.0, 0.01, 0.02, 0.05):
        for seed in (0, 1):
            X, truth = skewed_numeric(3000, rate, seed)
            with Clock() as t_ours:
                ours = find_outliers(X)["is_outlier"].to_numpy()
            lab, t_lab = datalab(X, np.zeros(len(X), dtype=np.int64) + (X[:, 0] > 0), "outlier")
            with threadpool_limits(1):
                iso = IsolationForest(contamination=max(rate, 1e-3), random_state=0)
                iso_flags = iso.fit(X).predict(X) < 0
            rows.append(
                {
                    "data": "numeric 3000 x 8 (4 lognormal)",
                    "seed": seed,
                    "outliers": f"{rate:.0%}",
                    "ours F1 (flagged)": f1(ours, truth) if rate else float(ours.sum()),
                    "Datalab F1 (flagged)": f1(lab, truth) if rate else float(lab.sum()),
                    "IsolationForest (true rate) F1": f1(iso_flags, truth) if rate else np.nan,
                    "ours s (cpu)": str(t_ours),
                    "Datalab s (cpu)": str(t_lab),
                }
            )
    for rate in (0.0, 0.01, 0.02, 0.05):
        for seed in (0, 1):
            df, truth = issue_table(3000, rate, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = dj.Dataset(df, label="label", history=":memory:", embed=False)
                with Clock() as t_ours:
                    ours = ds.find_outliers(progress=False).frame["is_outlier"].to_numpy()
            # reference: IsolationForest told the rate, on one-hot + median-imputed numbers
            enc = pd.get_dummies(df[["job", "city"]]).to_numpy(dtype=np.float64)
            num = df[["age", "income"]].fillna(df[["age", "income"]].median()).to_numpy()
            with Clock() as t_iso, threadpool_limits(1):
                iso = IsolationForest(contamination=max(rate, 1e-3), random_state=0)
                iso_flags = iso.fit(np.hstack([num, enc])).predict(np.hstack([num, enc])) < 0
            rows.append(
                {
                    "data": "mixed 3000 (lognormal income)",
                    "seed": seed,
                    "outliers": f"{rate:.0%}",
                    "ours F1 (flagged)": f1(ours, truth) if rate else float(ours.sum()),
                    "Datalab F1 (flagged)": np.nan,
                    "IsolationForest (true rate) F1": f1(iso_flags, truth) if rate else np.nan,
                    "ours s (cpu)": str(t_ours),
                    "Datalab s (cpu)": str(t_iso) + " (IsolationForest)",
                }
            )
    table(rows, "Outliers with skewed numerics (rate not given to ours; 0 %: rows flagged)")


# ---------------------------------------------------------------------------- pruning
def bench_prune() -> None:
    rows = []
    model = default_prune_model()
    cases = (
        ("digits", digits()),
        (
            "make_classification 5k/5 classes",
            make_classification(5000, 20, n_informative=10, n_classes=5, random_state=0),
        ),
    )
    for name, (X, y) in cases:
        y = np.asarray(y, dtype=np.int64)
        for keep in (0.5, 0.3):
            full, rand, ours, rules, times = [], [], [], [], []
            folds = StratifiedKFold(3, shuffle=True, random_state=0).split(X, y)
            for tr, te in folds:
                Xt, yt = X[tr], y[tr]
                with threadpool_limits(1):
                    full.append(clone(model).fit(Xt, yt).score(X[te], y[te]))
                    scores = []
                    for seed in range(3):
                        drop, _ = prune_mask(
                            yt, np.zeros(len(yt)), keep=keep, rule="random", random_state=seed
                        )
                        scores.append(clone(model).fit(Xt[~drop], yt[~drop]).score(X[te], y[te]))
                    rand.append(float(np.mean(scores)))
                df = pd.DataFrame(Xt, columns=[f"f{i}" for i in range(X.shape[1])])
                df["label"] = yt
                ds = dj.Dataset(df, label="label")
                with Clock() as clock:
                    found = ds.prune(keep=keep, progress=False)
                times.append(clock.cpu)
                kept = ~found.frame["drop"].to_numpy()
                rules.append(found.frame.attrs["rule"])
                with threadpool_limits(1):
                    ours.append(clone(model).fit(Xt[kept], yt[kept]).score(X[te], y[te]))
            rows.append(
                {
                    "data": name,
                    "keep": keep,
                    "full": np.mean(full),
                    "random": np.mean(rand),
                    "ours (auto)": np.mean(ours),
                    "ours - full": np.mean(ours) - np.mean(full),
                    "ours - random": np.mean(ours) - np.mean(rand),
                    "rules picked": ",".join(rules),
                    "ours cpu s/split": np.mean(times),
                }
            )
    table(rows, "Pruning (test accuracy, 3 stratified splits, scaled LogisticRegression)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("dup", "outliers", "skewed", "prune"), default=None)
    args = parser.parse_args()
    print(
        f"# benchmarks/remove.py — {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    if args.only in (None, "dup"):
        bench_duplicates()
    if args.only in (None, "outliers"):
        bench_outliers()
    if args.only in (None, "skewed"):
        bench_skewed()
    if args.only in (None, "prune"):
        bench_prune()


if __name__ == "__main__":
    main()
