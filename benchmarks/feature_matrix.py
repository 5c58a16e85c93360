"""A dataset's feature matrix on all-numeric columns: ``dataset_feature_matrix(ds)`` against
the general path it used before (the columns put into a DataFrame, then each column encoded
and the blocks stacked: ``feature_matrix(frame, cols, on_unusable="skip")``), measured in
the same run.

Data: ``--n`` rows (default 1,000,000) of 20 columns: 17 float (3 of them with 1 % NaN),
2 integer, 1 boolean, and a label. Each path runs ``--reps`` times (default 5); the median
CPU and wall seconds are printed, with the ratio to the reference and whether the two
matrices are equal (same values, NaN imputed alike, same dtype and column order).

    .venv/bin/python benchmarks/feature_matrix.py [--n 1000000] [--reps 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import dcai_jupyter as dj
from dcai_jupyter.ops import dataset_feature_matrix
from dcai_jupyter.ops._features import feature_matrix


def frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    cols: dict[str, Any] = {f"f{i}": rng.normal(size=n) for i in range(17)}
    for i in range(3):
        cols[f"f{i}"][rng.random(n) < 0.01] = np.nan
    cols["i0"] = rng.integers(0, 1000, n)
    cols["i1"] = rng.integers(-5, 5, n).astype(np.int32)
    cols["b0"] = rng.random(n) < 0.3
    cols["label"] = rng.integers(0, 3, n)
    return pd.DataFrame(cols)


def median(fn: Callable[[], Any], reps: int) -> tuple[float, float, Any]:
    """Median (CPU s, wall s) over ``reps`` runs of ``fn``, and its last result."""
    cpus, walls, out = [], [], None
    for _ in range(reps):
        c, t = time.process_time(), time.perf_counter()
        out = fn()
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - t)
    return float(np.median(cpus)), float(np.median(walls)), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    ds = dj.Dataset(frame(args.n), label="label", history=":memory:")
    cols = [c for c in ds.feature_columns if c != ds.label]

    def reference() -> np.ndarray:
        X, _ = feature_matrix(
            pd.DataFrame({c: ds.column(c) for c in cols}), cols, on_unusable="skip"
        )
        return X

    with threadpool_limits(1):
        ref_cpu, ref_wall, ref = median(reference, args.reps)
        cpu, wall, (X, used) = median(lambda: dataset_feature_matrix(ds), args.reps)
    same = (
        X.dtype == ref.dtype
        and X.shape == ref.shape
        and used == cols
        and np.array_equal(X, ref)
        and X.flags.c_contiguous == ref.flags.c_contiguous
    )
    print(f"{args.n:,} rows x {len(cols)} numeric columns (median of {args.reps} runs)")
    print(f"  DataFrame, then each column (ref): {ref_cpu:6.3f} CPU s  {ref_wall:6.3f} wall s")
    print(
        f"  dataset_feature_matrix           : {cpu:6.3f} CPU s  {wall:6.3f} wall s  "
        f"({ref_cpu / max(cpu, 1e-9):.1f}x less CPU)"
    )
    print(f"  equal to the reference: {same}")


if __name__ == "__main__":
    main()
