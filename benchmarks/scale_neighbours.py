"""Near duplicates and outliers as the data grows (issue 21): wall time, CPU time, peak memory,
quality against the exact search and against Datalab, growth exponent.

Data: ``_scale_measure.data(n)`` (``make_classification``, 20 numeric features, 5 classes,
seed 0) with injected issues replacing rows: ``max(50, n // 2000)`` near copies (another row
plus gaussian noise of 1 % of each feature's standard deviation) and ``max(50, n // 2000)``
outliers (a row pushed 3x its own distance from the column means, in a random direction).

Rows (:func:`run_neighbour_ops`), each step measured by ``_scale_measure.measured`` (its wall
seconds and the process's peak RSS during it) plus its CPU seconds:

- ``neighbour graph JIT``: above the service's ``EXACT_MAX`` the first approximate graph of
  a process pays numba's compile of pynndescent (~20 s once per process); measured on
  2,000 rows before the steps, so the steps' seconds are the warm cost (add it for a cold
  kernel);
- ``near duplicates``: ``find_duplicates(X)`` on the default path (exact up to
  ``EXACT_MAX`` rows, the approximate graph above); ``recall`` = injected copies found in a
  group with their source. Up to 100k also the approximate path forced, with
  ``recall_vs_exact`` = share of the injected pairs the exact path finds that it finds;
- ``outliers``: ``find_outliers(X)`` on the default path (exact up to ``EXACT_ROWS``),
  ``f1`` on the injected outliers; up to 100k also the other path, ``f1_exact`` beside;
- Datalab's ``near_duplicate`` and ``outlier`` issue types on the same features (one native
  thread), up to ``DATALAB_MAX`` rows: its kNN graph is an exact search (n^2); at 1M it
  would take ~100x its 100k time, so it is not run there.

``python benchmarks/scale_neighbours.py`` runs each size in a fresh subprocess (the peak
memory of one size does not carry into the next; the subprocess's ``ru_maxrss`` is printed
too) and prints the table and the growth exponents ``b`` of ``time ~ n^b`` between
consecutive sizes. ``--sizes 10000,100000,1000000`` (default), ``--json out.json``,
``--datalab-max 10000`` (Datalab only up to that size: at 100k its two exact graphs take
the longest part of the run on a loaded machine).
``benchmarks/scale.py`` imports :func:`run_neighbour_ops` for its ``neighbours`` part.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scale_measure import data, measured

#: Datalab runs up to this many rows (exact kNN: quadratic)
DATALAB_MAX = 100_000
#: the approximate path is also forced (and the exact one run) up to this many rows
COMPARE_MAX = 100_000


def inject(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X`` (n x 20), labels, the (source, copy) rows of the near copies, the outlier rows."""
    X, y = data(n)
    rng = np.random.default_rng(seed)
    m = max(50, n // 2000)
    rows = rng.choice(n, 3 * m, replace=False)
    src, dst, far = rows[:m], rows[m : 2 * m], rows[2 * m :]
    sd = X.std(axis=0)
    X[dst] = X[src] + rng.normal(size=(m, X.shape[1])) * 0.01 * sd
    y[dst] = y[src]
    mu = X.mean(axis=0)
    u = rng.normal(size=(m, X.shape[1]))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    r = np.linalg.norm((X[far] - mu) / sd, axis=1)
    X[far] = mu + 3.0 * np.maximum(r, np.median(r))[:, None] * u * sd
    return X, y, np.c_[src, dst], far


def _f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = int((pred & truth).sum())
    return 2 * tp / max(1, int(pred.sum()) + int(truth.sum()))


def _pairs_found(group: Any, pairs: np.ndarray) -> np.ndarray:
    g = np.asarray(group.to_numpy(dtype=float, na_value=np.nan))
    a, b = g[pairs[:, 0]], g[pairs[:, 1]]
    return (a == b) & ~np.isnan(a)


def _cpu() -> float:
    r = os.times()
    return r.user + r.system


def _step(fn: Any, *args: Any, **kw: Any) -> tuple[Any, float, float, float]:
    c0 = _cpu()
    out, seconds, peak = measured(fn, *args, **kw)
    return out, seconds, _cpu() - c0, peak


def _datalab(X: np.ndarray, y: np.ndarray, issue: str) -> np.ndarray:
    from cleanlab import Datalab
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        lab = Datalab(data={"label": y}, label_name="label", verbosity=0)
        lab.find_issues(features=X, issue_types={issue: {}})
        return lab.get_issues(issue)[f"is_{issue}_issue"].to_numpy(dtype=bool)


def run_neighbour_ops(n: int, datalab_max: int = DATALAB_MAX) -> list[dict[str, Any]]:
    """Near duplicates and outliers at ``n`` rows, in this process (see the module docstring).

    Returns rows ``{op, impl, n, seconds, cpu_seconds, peak_mb, recall | f1, reference,
    ref_seconds, ...}``.
    """
    from dcai_jupyter.ops import _near_copies, _outliers, find_duplicates, find_outliers
    from dcai_jupyter.ops._neighbours import EXACT_MAX, neighbour_graph

    X, y, pairs, far = inject(n)
    truth_far = np.zeros(n, dtype=bool)
    truth_far[far] = True
    rows: list[dict[str, Any]] = []
    compare = n <= COMPARE_MAX
    if n > EXACT_MAX or compare:
        Xw = np.random.default_rng(1).normal(size=(2000, 20))
        _, s, c, p = _step(neighbour_graph, Xw, 10, exact=False)
        rows.append(
            {
                "op": "neighbour graph JIT",
                "impl": "pynndescent compile (once per process)",
                "n": 2000,
                "seconds": s,
                "cpu_seconds": c,
                "peak_mb": p,
            }
        )

    # near duplicates: the default path, and up to COMPARE_MAX the other one
    found: dict[str, np.ndarray] = {}
    default = "exact" if n <= EXACT_MAX else "approximate"
    for path in [default] + (["approximate"] if compare and default == "exact" else []):
        saved = _near_copies.EXACT_MAX
        _near_copies.EXACT_MAX = n if path == "exact" else 0
        try:
            res, s, c, p = _step(find_duplicates, X)
        finally:
            _near_copies.EXACT_MAX = saved
        hit = _pairs_found(res["group"], pairs)
        found[path] = hit
        row = {
            "op": "near duplicates",
            "impl": f"ours ({path})",
            "n": n,
            "seconds": s,
            "cpu_seconds": c,
            "peak_mb": p,
            "recall": float(hit.mean()),
            "groups": int(res["group"].nunique()),
        }
        if path == "approximate" and "exact" in found:
            ex = found["exact"]
            row["recall_vs_exact"] = float((hit & ex).sum() / max(1, ex.sum()))
        rows.append(row)

    # outliers: the default path, and up to COMPARE_MAX the other one
    f1s: dict[str, float] = {}
    default = "exact" if n <= _outliers.EXACT_ROWS else "approximate"
    other = "approximate" if default == "exact" else "exact"
    for path in [default] + ([other] if compare else []):
        res, s, c, p = _step(find_outliers, X, exact=path == "exact")
        f1s[path] = _f1(res["is_outlier"].to_numpy(), truth_far)
        rows.append(
            {
                "op": "outliers",
                "impl": f"ours ({path})",
                "n": n,
                "seconds": s,
                "cpu_seconds": c,
                "peak_mb": p,
                "f1": f1s[path],
                "flagged": int(res["is_outlier"].sum()),
            }
        )
    if "exact" in f1s:
        for r in rows:
            if r["op"] == "outliers":
                r["f1_exact"] = f1s["exact"]
    # the references last: at 100k they take longer than ours (an exact kNN graph each)
    if n <= datalab_max:
        flags, s, c, p = _step(_datalab, X, y, "near_duplicate")
        ref_dup = {
            "reference": "Datalab near_duplicate",
            "ref_seconds": s,
            "ref_cpu": c,
            "ref_peak_mb": p,
            "ref_recall": float(flags[pairs[:, 1]].mean()),
        }
        flags, s, c, p = _step(_datalab, X, y, "outlier")
        ref_out = {
            "reference": "Datalab outlier",
            "ref_seconds": s,
            "ref_cpu": c,
            "ref_peak_mb": p,
            "ref_f1": _f1(flags, truth_far),
        }
        for r in rows:
            r.update(
                ref_dup
                if r["op"] == "near duplicates"
                else ref_out
                if r["op"] == "outliers"
                else {}
            )
    return rows


# --------------------------------------------------------------------------- standalone
def _child(n: int, out: str, datalab_max: int) -> None:
    warnings.filterwarnings("ignore")
    rows = run_neighbour_ops(n, datalab_max)
    Path(out).write_text(json.dumps(rows, default=lambda v: v.item()))


def _run_size(n: int, tmp: Path, datalab_max: int) -> tuple[list[dict[str, Any]], float]:
    out = tmp / f"neighbours-{n}.json"
    me = str(Path(__file__).resolve())
    cmd = [sys.executable, me, "--child", str(n), out.as_posix(), "--datalab-max", str(datalab_max)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    rss = usage.ru_maxrss / 1024
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        return [{"op": "(failed)", "n": n, "error": err}], rss
    return json.loads(out.read_text()), rss


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--json", default=None)
    ap.add_argument("--datalab-max", type=int, default=DATALAB_MAX, help="Datalab up to n rows")
    ap.add_argument("--child", nargs=2, metavar=("N", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        _child(int(a.child[0]), a.child[1], a.datalab_max)
        return
    print(f"# {platform.platform()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    tmp = Path(__file__).resolve().parent / "_out"
    tmp.mkdir(exist_ok=True)
    rows: list[dict[str, Any]] = []
    for n in [int(s) for s in a.sizes.split(",")]:
        t0 = time.perf_counter()
        got, rss = _run_size(n, tmp, a.datalab_max)
        for r in got:
            r["process_peak_mb"] = rss
        rows += got
        print(
            f"# n={n}: {time.perf_counter() - t0:.0f} s, process peak {rss:.0f} MB, "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        for r in got:
            print("  " + ", ".join(f"{k}={_fmt(v)}" for k, v in r.items()), flush=True)
    # growth exponents of the default path (and of the approximate one) between sizes
    print("\n# growth exponent b (time ~ n^b) between consecutive sizes (wall; cpu)")
    for op in ("near duplicates", "outliers"):
        for impl in sorted({r["impl"] for r in rows if r.get("op") == op}):
            pts = sorted(
                (r["n"], r["seconds"], r["cpu_seconds"])
                for r in rows
                if r.get("op") == op and r["impl"] == impl
            )
            for (n0, s0, c0), (n1, s1, c1) in itertools.pairwise(pts):
                b = math.log(s1 / s0) / math.log(n1 / n0)
                bc = math.log(c1 / c0) / math.log(n1 / n0)
                print(f"  {op}, {impl}: {n0} -> {n1}: b = {b:.2f}; cpu {bc:.2f}")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
