"""Label issues and one active-learning round as the data grows (issue 21), against references.

:func:`run_label_ops` (used by ``benchmarks/scale.py``, part ``labels``) measures at ``n`` rows
of ``_scale_measure.data(n)`` (``make_classification``, 20 numeric features, 5 classes of two
clusters each, seed 0):

- ``label issues`` (impl ``ours``): ``ds.find_label_issues()`` end to end on the table with
  10 % of the labels moved to another class (seed 0): wall seconds, the step's peak memory,
  and precision / recall / F1 of the flags against the moved labels;
- ``confident learning`` on the out-of-sample probabilities that run computed: ours
  (``dcai_jupyter.find_label_issues``) and the reference, cleanlab's
  ``cleanlab.filter.find_label_issues`` (``n_jobs=1``) on the same probabilities;
- ``active learning round``: one ``ds.suggest_samples(k=20)`` over an ``n``-row pool with 20
  labeled rows (one per class at least), with the default model (impl ``ours``) and with
  the reference's model and strategy (``margin``, a ``StandardScaler`` +
  ``LogisticRegression`` pipeline, impl ``ours LR margin``); the reference is
  scikit-activeml's ``UncertaintySampling(method="margin_sampling")`` on the same model
  (impl ``skactiveml margin``), which fits the model and scores every pool row as well.
  ``overlap``: the share of its 20 picks that ours picks too with the same model.

Each row: ``op``, ``impl``, ``n``, ``seconds`` (wall), ``cpu_seconds`` (this process's CPU
time: on a machine shared with other work it is the steadier number), ``peak_mb`` and
quality numbers; the rows of
ours also carry ``reference`` (what it is compared with), ``ref_seconds`` and, for label
issues, ``ref_f1``. The peak is the process's resident memory at its highest during the step
(the high-water mark reset before it), data already loaded included.

Run alone: ``python benchmarks/scale_labels.py`` (10k, 100k, 1M; ``--sizes 10000,100000``),
each size in a fresh subprocess with one native thread (after an unmeasured warm-up on 1,000
rows), printing a table, the growth exponents (time ~ n^b) and each subprocess's peak RSS
(``ru_maxrss``). Numbers are printed, never asserted.

Measured 2026-12-06 on the 2-core machine shared with other work (load average ~8, so wall
times are ~3.5x the CPU times; one native thread):

======================  =====  ==========  =========  ========  =====================
step                    rows   wall s      CPU s      peak MB   quality / reference
======================  =====  ==========  =========  ========  =====================
label issues            100k   9.0         2.5        404       F1 0.862 (cleanlab on
                                                                the same probs 0.857)
label issues            1M     52.5        14.2       1324      F1 0.893 (0.886)
active learning round   1M     12.3        3.7        1154      default model
AL round, LR margin     1M     3.1         0.9        1154      same 20 picks as
                                                                skactiveml: 2.1 s wall
======================  =====  ==========  =========  ========  =====================

Growth 100k -> 1M: label issues b = 0.77 (wall) / 0.75 (CPU), the AL round 0.91 / 0.93.
The code before issue 21's changes, same run and load: label issues 1M 163.4 s wall, 51.0 s
CPU, 2526 MB, F1 0.885 (100k: 17.9 s, 5.1 s CPU); the AL round 1M 18.9 s wall, 5.5 s CPU,
1673 MB (LR margin 7.8 s).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _scale_measure  # noqa: E402
from _scale_measure import data  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
NOISE = 0.10
N_LABELED = 20
K_PICKS = 20
ONE_THREAD = {
    k: "1"
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
}


def _measured(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float, float, float]:
    """``_scale_measure.measured`` (wall seconds, the step's peak MB) plus the CPU seconds of
    the call (a machine shared with other work stretches the wall time, not the CPU time)."""
    gc.collect()
    _scale_measure._reset_peak()
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn(*args, **kwargs)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return out, seconds, _scale_measure.peak_mb(), cpu


def _prf(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    tp = int((pred & truth).sum())
    p = tp / max(1, int(pred.sum()))
    r = tp / max(1, int(truth.sum()))
    return {"precision": p, "recall": r, "f1": 2 * tp / max(1, int(pred.sum()) + int(truth.sum()))}


def _noisy(y: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    flip = rng.random(len(y)) < NOISE
    noisy = y.copy()
    noisy[flip] = (y[flip] + rng.integers(1, 5, int(flip.sum()))) % 5
    return noisy, flip


def _frame(X: np.ndarray, labels: np.ndarray) -> Any:
    import pandas as pd

    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    df["label"] = labels
    return df


def label_rows(n: int) -> list[dict[str, Any]]:
    """``ds.find_label_issues()`` and the confident-learning step vs cleanlab's."""
    from cleanlab.filter import find_label_issues as cl_find

    import dcai_jupyter as dj
    from dcai_jupyter.ops import _label_issues, find_label_issues

    X, y = data(n)
    noisy, flip = _noisy(y)
    ds = dj.Dataset(_frame(X, noisy), label="label", name="labels", history=":memory:")
    del X
    # the probabilities the run computes, kept for the references (the function is called
    # as it is; its result is only remembered)
    seen: dict[str, np.ndarray] = {}
    oos = _label_issues.out_of_sample_pred_probs

    def remember(*args: Any, **kwargs: Any) -> np.ndarray:
        seen["probs"] = oos(*args, **kwargs)
        return seen["probs"]

    _label_issues.out_of_sample_pred_probs = remember
    try:
        f, s, mb, cpu = _measured(ds.find_label_issues, progress=False)
    finally:
        _label_issues.out_of_sample_pred_probs = oos
    ids = np.asarray(ds.ids)
    flagged = f.flags.reindex(ids, fill_value=False).to_numpy()
    ours = _prf(flagged, flip)
    probs = seen["probs"]
    out, s_cl, mb_cl, cpu_cl = _measured(find_label_issues, noisy, probs)
    cl_ours = _prf(out.sort_index()["is_issue"].to_numpy(), flip)
    mask, s_ref, mb_ref, cpu_ref = _measured(cl_find, noisy, probs, n_jobs=1)
    ref = _prf(np.asarray(mask, dtype=bool), flip)
    ref_name = "cleanlab find_label_issues (same probabilities)"
    return [
        {
            "op": "label issues",
            "impl": "ours",
            "seconds": s,
            "cpu_seconds": cpu,
            "peak_mb": mb,
            **ours,
            "reference": ref_name,
            "ref_seconds": s_ref,
            "ref_f1": ref["f1"],
        },
        {
            "op": "confident learning",
            "impl": "ours",
            "seconds": s_cl,
            "cpu_seconds": cpu_cl,
            "peak_mb": mb_cl,
            **cl_ours,
            "reference": ref_name,
            "ref_seconds": s_ref,
            "ref_f1": ref["f1"],
        },
        {
            "op": "confident learning",
            "impl": "cleanlab",
            "seconds": s_ref,
            "cpu_seconds": cpu_ref,
            "peak_mb": mb_ref,
            **ref,
        },
    ]


def _lr() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def active_rows(n: int) -> list[dict[str, Any]]:
    """One ``ds.suggest_samples(k=20)`` over an ``n``-row pool vs scikit-activeml's margin."""
    import dcai_jupyter as dj

    X, y = data(n + N_LABELED)
    rng = np.random.default_rng(0)
    first = np.concatenate([rng.choice(np.flatnonzero(y == c), 1, replace=False) for c in range(5)])
    rest = np.setdiff1d(np.arange(len(y)), first)
    first = np.sort(np.concatenate([first, rng.choice(rest, N_LABELED - 5, replace=False)]))
    lab = np.full(len(y), np.nan)
    lab[first] = y[first]
    ds = dj.Dataset(_frame(X, lab), label="label", name="pool", history=":memory:")
    _, s, mb, cpu = _measured(ds.suggest_samples, k=K_PICKS, progress=False)
    f_lr, s_lr, mb_lr, cpu_lr = _measured(
        ds.suggest_samples, k=K_PICKS, strategy="margin", model=_lr(), progress=False
    )
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import UncertaintySampling

    qs = UncertaintySampling(method="margin_sampling", random_state=0)
    clf = SklearnClassifier(_lr(), classes=np.arange(5), random_state=0)
    picks, s_ref, mb_ref, cpu_ref = _measured(qs.query, X, lab, clf, batch_size=K_PICKS)
    ids = np.asarray(ds.ids)
    ref_ids = set(ids[np.asarray(picks)].tolist())
    overlap = len(ref_ids & set(np.asarray(f_lr.frame.index).tolist())) / K_PICKS
    name = "skactiveml UncertaintySampling(margin), LR"
    return [
        {
            "op": "active learning round",
            "impl": "ours",
            "seconds": s,
            "cpu_seconds": cpu,
            "peak_mb": mb,
            "pool": n,
            "reference": name,
            "ref_seconds": s_ref,
        },
        {
            "op": "active learning round",
            "impl": "ours LR margin",
            "seconds": s_lr,
            "cpu_seconds": cpu_lr,
            "peak_mb": mb_lr,
            "pool": n,
            "overlap": overlap,
            "reference": name,
            "ref_seconds": s_ref,
        },
        {
            "op": "active learning round",
            "impl": "skactiveml margin",
            "seconds": s_ref,
            "cpu_seconds": cpu_ref,
            "peak_mb": mb_ref,
            "pool": n,
        },
    ]


def run_label_ops(n: int) -> list[dict[str, Any]]:
    """Rows ``{op, impl, n, seconds, peak_mb, f1, ..., reference, ref_seconds}`` at ``n`` rows:
    label issues (and its confident-learning step) vs cleanlab, one active-learning round vs
    scikit-activeml. Run it in a fresh process per size (``benchmarks/scale.py`` does)."""
    rows = label_rows(n) + active_rows(n)
    for r in rows:
        r["n"] = n
    return rows


# --------------------------------------------------------------------------- standalone run
def _child(n: int, out: str) -> None:
    import warnings

    from threadpoolctl import threadpool_limits

    warnings.filterwarnings("ignore")
    with threadpool_limits(1):
        run_label_ops(1000)  # imports and first calls out of the numbers
        rows = run_label_ops(n)
    Path(out).write_text(json.dumps(rows, default=float))


def _in_subprocess(n: int, tmp: Path) -> tuple[list[dict[str, Any]], float]:
    out = tmp / f"labels-{n}.json"
    out.unlink(missing_ok=True)
    env = {**os.environ, **ONE_THREAD, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", str(n), str(out)], env=env, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    rss = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)
    if os.waitstatus_to_exitcode(status) != 0 or not out.exists():
        raise RuntimeError(f"{n} rows failed:\n{err[-2000:]}")
    return json.loads(out.read_text()), rss


def _exponent(ns: list[int], ts: list[float]) -> float:
    b, _ = np.polyfit(np.log(ns), np.log(ts), 1)
    return float(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        _child(int(a.child[0]), a.child[1])
        return
    sizes = sorted(int(s) for s in a.sizes.split(","))
    tmp = HERE / "_out" / "scale"
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; one native thread")
    rows: list[dict[str, Any]] = []
    rss = {}
    for n in sizes:
        t = time.monotonic()
        got, rss[n] = _in_subprocess(n, tmp)
        rows += got
        print(f"  {n:,} rows: {time.monotonic() - t:.0f} s", flush=True)
    head = (
        f"{'operation':24s} {'impl':18s} {'rows':>9s} {'wall s':>8s} {'CPU s':>7s} "
        f"{'peak MB':>8s}  quality"
    )
    print("\n" + head + "\n" + "-" * len(head))
    keys = ("f1", "precision", "recall", "ref_f1", "ref_seconds", "overlap")
    for r in rows:
        extra = "  ".join(f"{k} {r[k]:.3f}" for k in keys if k in r)
        print(
            f"{r['op']:24s} {r['impl']:18s} {r['n']:>9,d} {r['seconds']:8.2f} "
            f"{r['cpu_seconds']:7.2f} {r['peak_mb']:8.0f}  {extra}"
        )
    print()
    for key in ("seconds", "cpu_seconds"):
        series: dict[tuple[str, str], dict[int, float]] = {}
        for r in rows:
            series.setdefault((r["op"], r["impl"]), {})[r["n"]] = r[key]
        for (op, impl), pts in series.items():
            ns = sorted(pts)
            if len(ns) >= 2 and all(pts[m] > 0 for m in ns):
                top = _exponent(ns[-2:], [pts[m] for m in ns[-2:]])
                print(
                    f"{op:24s} {impl:18s} {'wall' if key == 'seconds' else 'CPU':4s} ~ n^b: "
                    f"b = {top:.2f} from {ns[-2]:,} to {ns[-1]:,}"
                )
    print("\npeak RSS per subprocess (MB): " + ", ".join(f"{n:,}: {v:.0f}" for n, v in rss.items()))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1, default=float))


if __name__ == "__main__":
    main()
