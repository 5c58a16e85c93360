"""Every operation's cost as the data grows (issue 21): wall time, peak memory, growth exponent.

Each operation runs at 10k, 100k and 1M rows of one table (``_scale_measure.data``:
``make_classification``, 20 numeric features, 5 classes, seed 0), each size in a fresh
subprocess with one native thread (``OMP_NUM_THREADS=1``, ``NUMBA_NUM_THREADS=1``...; ``--threads``
to change it), as the issue's own measurements were taken, so one step's memory does not
carry into the next size; each subprocess first runs its part once on 1,000 rows, unmeasured,
so imports and first-call costs stay out of the numbers. A row of the table is one step: its wall seconds and the peak
resident memory of the process during the step (the kernel's high-water mark reset before
it), with the reference measured in the same subprocess where one exists. Below each
operation, the fitted growth exponent ``b`` of ``time ~ n^b``: over every size measured
(least squares in log-log) and between the two largest (100k -> 1M in the full run).

Parts (``--ops``, comma-separated):

- ``neighbours``: near duplicates and outliers, from ``scale_neighbours.run_neighbour_ops``
  (helper module; with Datalab's ``near_duplicate`` and ``outlier`` issue types);
- ``labels``: label issues and one active-learning round over a pool, from
  ``scale_labels.run_label_ops`` (cleanlab ``find_label_issues`` on the same probabilities,
  scikit-activeml margin sampling);
- ``exact``: exact duplicates (1 % of rows copied) vs ``pandas.DataFrame.duplicated``;
- ``prune``: ``ds.prune(keep=0.5)``;
- ``smote``: ``ds.synthesize(method="smote")`` doubling a rare class (2 % of rows) vs
  imbalanced-learn ``SMOTE().fit_resample`` asked for the same rows;
- ``augment``: ``ds.augment("jitter", n=1)`` on every row (made and recorded) vs the same
  noise added with numpy and the frame concatenated;
- ``pseudo``: ``ds.pseudo_label(threshold=0.95)`` with 10 % of rows labeled, the rest a pool;
- ``mixed``: a mixed table (8 numeric columns with 2 % missing, 2 categorical, one text
  column of 6-12 words) at the sizes up to 100k: label issues, near duplicates, outliers.

The helper modules' rows are used as they come (``op``, ``impl``, ``seconds``, ``peak_mb``,
quality numbers); a part whose module is absent says so. Targets from the issue are printed
beside the numbers (``ok`` / ``MISS``), never asserted.

Run: ``python benchmarks/scale.py`` (the full sweep: ~20 min on 2 cores), ``--quick``
(2k, 10k, 30k: a minute or two), ``--sizes 10000,100000``, ``--ops exact,smote``,
``--timeout 900`` (seconds per subprocess), ``--json out.json``; ``--report a.json b.json``
prints one table from runs made apart.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _scale_measure import data, process_peak_mb  # noqa: E402
from _scale_measure import measured as _measured  # noqa: E402

FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (2_000, 10_000, 30_000)
MIXED_MAX = 100_000
#: each subprocess first runs its part on this many rows, unmeasured (imports, first calls)
WARMUP_ROWS = 1_000
ALL_PARTS = ("neighbours", "labels", "exact", "prune", "smote", "augment", "pseudo", "mixed")
#: helper modules that provide parts of the table: part -> (module, function)
HELPERS = {
    "neighbours": ("scale_neighbours", "run_neighbour_ops"),
    "labels": ("scale_labels", "run_label_ops"),
}
#: the native thread pools a subprocess is limited by (``--threads``, default 1)
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


# --------------------------------------------------------------------------- targets
def _targets(op: str, n: int) -> list[tuple[str, Callable[[dict[str, Any]], bool | None]]]:
    """The issue's targets for the row ``op`` at ``n`` rows: (label, check(row))."""

    def sec(limit: float) -> tuple[str, Callable[[dict[str, Any]], bool | None]]:
        return f"<= {limit:g} s", lambda r: r.get("seconds") is not None and r["seconds"] <= limit

    def mem(limit_gb: float) -> tuple[str, Callable[[dict[str, Any]], bool | None]]:
        return (
            f"<= {limit_gb:g} GB",
            lambda r: None if r.get("peak_mb") is None else r["peak_mb"] <= limit_gb * 1024,
        )

    def at_least(key: str, v: float) -> tuple[str, Callable[[dict[str, Any]], bool | None]]:
        return f"{key} >= {v:g}", lambda r: None if r.get(key) is None else r[key] >= v

    name = op.lower()
    if n < 1_000_000:
        return []
    if name.startswith("near dup"):
        return [sec(60), mem(4), at_least("recall", 0.95)]
    if name.startswith("outlier"):
        return [sec(60)]
    if name.startswith("label issues"):
        return [sec(60), mem(3)]
    if name.startswith("active learning"):
        return [sec(10)]
    return []


# --------------------------------------------------------------------------- the parts
def _frame(X: np.ndarray, y: np.ndarray | None) -> Any:
    import pandas as pd

    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    if y is not None:
        df["label"] = y
    return df


def _dataset(df: Any, name: str) -> Any:
    import dcai_jupyter as dj

    return dj.Dataset(df, label="label", name=name, history=":memory:")


def part_exact(n: int) -> list[dict[str, Any]]:
    """Exact duplicates: 1 % of the rows appended again (recall = copies flagged)."""
    import pandas as pd

    X, y = data(n)
    rng = np.random.default_rng(0)
    m = max(1, n // 100)
    src = rng.choice(n - m, m, replace=False)
    X = np.vstack([X[: n - m], X[src]])
    y = np.concatenate([y[: n - m], y[src]])
    df = _frame(X, y)
    truth = np.zeros(n, dtype=bool)
    truth[n - m :] = True
    ds = _dataset(df, "exact")
    f, s, mb = measured(ds.find_duplicates, near=False, progress=False)
    flagged = f.flags.reindex(ds.ids, fill_value=False).to_numpy()
    rows = [_row("exact duplicates", "ours", s, mb, recall=_recall(flagged, truth))]
    d, s, mb = measured(lambda: df.duplicated(keep="first").to_numpy())
    rows.append(_row("exact duplicates", "pandas duplicated", s, mb, recall=_recall(d, truth)))
    del pd
    return rows


def part_prune(n: int) -> list[dict[str, Any]]:
    X, y = data(n)
    ds = _dataset(_frame(X, y), "prune")
    f, s, mb = measured(ds.prune, keep=0.5, progress=False)
    rule = f.frame.attrs.get("rule")
    return [_row("prune keep=0.5", "ours", s, mb, dropped=int(f.frame["drop"].sum()), rule=rule)]


def part_smote(n: int) -> list[dict[str, Any]]:
    """SMOTE doubling class 4, first thinned to 2 % of the rows."""
    X, y = data(n)
    rng = np.random.default_rng(0)
    rare = np.flatnonzero(y == 4)
    keep_rare = rng.choice(rare, max(10, n // 50), replace=False)
    mask = y != 4
    mask[keep_rare] = True
    X, y = X[mask], y[mask]
    want = {4: 2 * int((y == 4).sum())}
    ds = _dataset(_frame(X, y), "smote")
    new, s, mb = measured(ds.synthesize, method="smote", target=want, progress=False)
    rows = [_row("smote (rare class x2)", "ours", s, mb, rows_made=len(new))]
    from imblearn.over_sampling import SMOTE

    (_, yr), s, mb = measured(SMOTE(sampling_strategy=want, random_state=0).fit_resample, X, y)
    rows.append(_row("smote (rare class x2)", "imblearn SMOTE", s, mb, rows_made=len(yr) - len(y)))
    return rows


def part_augment(n: int) -> list[dict[str, Any]]:
    import pandas as pd

    X, y = data(n)
    df = _frame(X, y)
    ds = _dataset(df, "augment")
    new, s, mb = measured(ds.augment, "jitter", n=1, random_state=0, progress=False)
    rows = [_row("augment jitter n=1", "ours", s, mb, rows_made=len(new))]

    def naive() -> Any:
        rng = np.random.default_rng(0)
        noisy = df.copy()
        cols = [c for c in df.columns if c != "label"]
        noisy[cols] = (
            df[cols].to_numpy()
            + rng.normal(0, 0.01, (len(df), len(cols))) * df[cols].std().to_numpy()
        )
        return pd.concat([df, noisy], ignore_index=True)

    out, s, mb = measured(naive)
    rows.append(_row("augment jitter n=1", "numpy noise + concat", s, mb, rows_made=len(out) - n))
    return rows


def part_pseudo(n: int) -> list[dict[str, Any]]:
    X, y = data(n)
    df = _frame(X, y.astype(float))
    rng = np.random.default_rng(0)
    pool = rng.random(n) >= 0.1
    df.loc[pool, "label"] = np.nan
    ds = _dataset(df, "pseudo")
    ds_ids = ds.ids
    _, s, mb = measured(ds.pseudo_label, threshold=0.95, progress=False)
    origins = ds.origins
    labeled = origins.index[origins["label_origin"] == "pseudo"] if len(origins) else []
    got = ds.df.loc[labeled, "label"].to_numpy() if len(labeled) else np.array([])
    truth = y[np.searchsorted(ds_ids, np.asarray(labeled, dtype=np.int64))] if len(labeled) else []
    acc = float(np.mean(got == truth)) if len(labeled) else float("nan")
    return [_row("pseudo labels t=0.95", "ours", s, mb, rows_labeled=len(labeled), accuracy=acc)]


def mixed_table(n: int, seed: int = 0) -> tuple[Any, np.ndarray, np.ndarray]:
    """A mixed table: numbers with missing values, categories, a text column; 10 % of the
    labels flipped. Returns (frame, true labels, flipped mask)."""
    import pandas as pd

    X, y = data(n, d=12, seed=seed)
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(X[:, :8], columns=[f"x{i}" for i in range(8)])
    df = df.mask(rng.random(df.shape) < 0.02)
    df["colour"] = pd.Categorical(
        np.array(["red", "green", "blue", "grey"])[(X[:, 8] > 0) * 2 + (X[:, 9] > 0)]
    )
    df["size"] = np.array(["S", "M", "L"])[np.digitize(X[:, 10], [-0.5, 0.5])]
    vocab = np.array([f"w{i}" for i in range(400)])
    # words drawn around a class-dependent centre, so the text carries some signal
    centre = (y * 80 + (X[:, 11] > 0) * 40)[:, None]
    length = rng.integers(6, 13, n)
    idx = (centre + rng.integers(-60, 60, (n, 12))) % len(vocab)
    words = vocab[idx]
    df["note"] = [" ".join(w[:k]) for w, k in zip(words, length, strict=True)]
    flip = rng.random(n) < 0.10
    noisy = y.copy()
    noisy[flip] = (noisy[flip] + rng.integers(1, 5, int(flip.sum()))) % 5
    df["label"] = noisy
    return df, y, flip


def part_mixed(n: int) -> list[dict[str, Any]]:
    if n > MIXED_MAX:
        return []
    df, _, flip = mixed_table(n)
    ds = _dataset(df, "mixed")
    f, s, mb = measured(ds.find_label_issues, progress=False)
    flagged = f.flags.reindex(ds.ids, fill_value=False).to_numpy()
    rows = [_row("mixed+text: label issues", "ours", s, mb, f1=_f1(flagged, flip))]
    f, s, mb = measured(ds.find_duplicates, near=True, progress=False)
    rows.append(_row("mixed+text: near duplicates", "ours", s, mb, flagged=int(f.flags.sum())))
    f, s, mb = measured(ds.find_outliers, progress=False)
    rows.append(_row("mixed+text: outliers", "ours", s, mb, flagged=int(f.flags.sum())))
    return rows


def part_helper(part: str, n: int) -> list[dict[str, Any]]:
    import importlib

    module, fn = HELPERS[part]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        return [
            {"op": f"({part})", "impl": "-", "skipped": f"benchmarks/{module}.py not there yet"}
        ]
    return list(getattr(mod, fn)(n))


PARTS: dict[str, Callable[[int], list[dict[str, Any]]]] = {
    "exact": part_exact,
    "prune": part_prune,
    "smote": part_smote,
    "augment": part_augment,
    "pseudo": part_pseudo,
    "mixed": part_mixed,
}


#: CPU seconds of the last measured step (this process; one native thread)
_last_cpu = [0.0]


def measured(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    """``_scale_measure.measured``, also noting the step's CPU seconds for :func:`_row` (on a
    shared machine CPU time is the fairer figure)."""

    def step(*a: Any, **k: Any) -> Any:
        c0 = time.process_time()
        try:
            return fn(*a, **k)
        finally:
            _last_cpu[0] = time.process_time() - c0

    return _measured(step, *args, **kwargs)


def _row(op: str, impl: str, seconds: float, peak_mb: float, **extra: Any) -> dict[str, Any]:
    """One row of the table, for the step :func:`measured` just ran."""
    return {
        "op": op,
        "impl": impl,
        "seconds": seconds,
        "peak_mb": peak_mb,
        "cpu_seconds": _last_cpu[0],
        **extra,
    }


def _recall(pred: np.ndarray, truth: np.ndarray) -> float:
    return float((pred & truth).sum() / max(1, truth.sum()))


def _f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = int((pred & truth).sum())
    return 2 * tp / max(1, int(pred.sum()) + int(truth.sum()))


# --------------------------------------------------------------------------- subprocesses
def child(part: str, n: int, out: str, warmup: bool = True) -> None:
    """Run one part at one size in this (fresh) process; write its rows as JSON to ``out``."""
    import warnings

    from threadpoolctl import threadpool_limits

    warnings.filterwarnings("ignore")
    run = (lambda m: part_helper(part, m)) if part in HELPERS else PARTS[part]
    with threadpool_limits(int(os.environ.get("OMP_NUM_THREADS", "1"))):
        if warmup and part not in HELPERS:  # imports and first calls out of the numbers
            # (the helper modules warm up themselves, and report a cold cost where one matters)
            try:
                run(WARMUP_ROWS)
            except Exception:  # the measured run below reports the failure
                pass
        rows = run(n)
    for r in rows:
        r.setdefault("n", n)
    # the process's own peak: ru_maxrss is cleared with each step's reset, this is not
    done = {"rows": rows, "process_peak_mb": process_peak_mb()}
    Path(out).write_text(json.dumps(done, default=_json_default))


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return str(v)


def run_size(
    part: str, n: int, timeout: float, tmp: Path, threads: int = 1
) -> tuple[list[dict[str, Any]], float]:
    """``part`` at ``n`` rows in a subprocess with ``threads`` native threads: its rows and
    the process's peak RSS (MB: ``wait4``'s ``ru_maxrss``, or the peak the subprocess saw
    before a step reset it, whichever is higher)."""
    out = tmp / f"{part}-{n}.json"
    out.unlink(missing_ok=True)
    env = {**os.environ, **dict.fromkeys(THREAD_VARS, str(threads)), "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", part, str(n), str(out)]
    t0 = time.monotonic()
    errlog = (tmp / f"{part}-{n}.stderr").open("w+b")  # a file: a full pipe would block it
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errlog)
    status = None
    rss = float("nan")
    while time.monotonic() - t0 < timeout:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            rss = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)
            break
        time.sleep(0.2)
    else:
        proc.kill()
        proc.wait()
        errlog.close()
        return [
            {"op": f"({part})", "impl": "-", "n": n, "skipped": f"> {timeout:g} s, stopped"}
        ], rss
    proc.returncode = os.waitstatus_to_exitcode(status)
    errlog.seek(0)
    err = errlog.read().decode(errors="replace")
    errlog.close()
    if proc.returncode != 0 or not out.exists():
        last = err.strip().splitlines()[-1:] or ["(no output)"]
        return [
            {"op": f"({part})", "impl": "-", "n": n, "skipped": f"failed: {last[0][:120]}"}
        ], rss
    done = json.loads(out.read_text())
    return done["rows"], max(rss, done["process_peak_mb"])


# --------------------------------------------------------------------------- the table
def exponent(ns: list[int], ts: list[float]) -> float | None:
    """Least-squares slope of log(t) on log(n) (None with fewer than two points)."""
    pts = [(math.log(n), math.log(t)) for n, t in zip(ns, ts, strict=True) if t and t > 0]
    if len({p[0] for p in pts}) < 2:
        return None
    x, yv = np.array(pts).T
    return float(np.polyfit(x, yv, 1)[0])


def _fmt_extra(r: dict[str, Any]) -> str:
    skip = {"op", "impl", "seconds", "peak_mb", "n", "skipped"}
    parts = []
    for k, v in r.items():
        if k in skip:
            continue
        parts.append(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}")
    return " ".join(parts)


def _ours(impl: Any) -> bool:
    """Whether a row is this project's (``ours``, ``ours (approximate)``...): the targets
    and the exponent check apply to those."""
    return str(impl).startswith("ours")


def _series(rs: list[dict[str, Any]]) -> dict[str, dict[int, float]]:
    """Seconds by size of each implementation in one operation's rows: the rows' own
    (``impl``, ``seconds``; ``cpu_seconds`` as a series of its own) and a reference measured
    beside them (``reference``, ``ref_seconds``)."""
    out: dict[str, dict[int, float]] = {}
    for r in rs:
        if r.get("skipped") or "n" not in r:
            continue
        out.setdefault(str(r.get("impl")), {})[int(r["n"])] = float(r["seconds"])
        if isinstance(r.get("cpu_seconds"), (int, float)):
            out.setdefault(f"{r.get('impl')}, CPU time", {})[int(r["n"])] = float(r["cpu_seconds"])
        if r.get("reference") and isinstance(r.get("ref_seconds"), (int, float)):
            out.setdefault(str(r["reference"]), {})[int(r["n"])] = float(r["ref_seconds"])
    return out


def report(rows: list[dict[str, Any]], proc_rss: dict[tuple[str, int], float]) -> str:
    lines = []
    by_op: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_op.setdefault(r["op"], []).append(r)
    head = f"{'operation':30s} {'impl':40s} {'rows':>9s} {'wall s':>8s} {'peak MB':>8s}  extra / targets"
    lines += [head, "-" * len(head)]
    for op, rs in by_op.items():
        rs.sort(key=lambda r: (not _ours(r.get("impl")), str(r.get("impl")), r.get("n", 0)))
        for r in rs:
            n = int(r.get("n", 0))
            if r.get("skipped"):
                lines.append(
                    f"{op:30s} {str(r.get('impl'))[:40]:40s} {n:>9,d} {'-':>8s} {'-':>8s}  {r['skipped']}"
                )
                continue
            mb = r.get("peak_mb")
            mbs = f"{mb:8.0f}" if isinstance(mb, (int, float)) else f"{'-':>8s}"
            marks = []
            if _ours(r.get("impl")):
                for label, check in _targets(op, n):
                    ok = check(r)
                    marks.append(f"[{label}: {'?' if ok is None else 'ok' if ok else 'MISS'}]")
            lines.append(
                f"{op:30s} {str(r.get('impl'))[:40]:40s} {n:>9,d} {r['seconds']:8.2f} {mbs}  "
                f"{_fmt_extra(r)} {' '.join(marks)}".rstrip()
            )
        for impl, pts in _series(rs).items():
            ns, ts = zip(*sorted(pts.items()), strict=True)
            b_all = exponent(list(ns), list(ts))
            b_top = exponent(list(ns[-2:]), list(ts[-2:]))
            if b_all is None or b_top is None:
                continue
            mark = ""
            if _ours(impl) and not impl.endswith("CPU time"):
                mark = f"  [b <= 1.2: {'ok' if b_top <= 1.2 else 'MISS'}]"
            lines.append(
                f"{'':30s} {impl[:40]:40s} growth n^b: b = {b_all:.2f} over {len(ns)} sizes, "
                f"{b_top:.2f} from {ns[-2]:,} to {ns[-1]:,}{mark}"
            )
        lines.append("")
    if proc_rss:
        lines.append("peak RSS of each subprocess (MB, data and imports included):")
        for (part, n), v in sorted(proc_rss.items()):
            lines.append(f"  {part:12s} {n:>9,d}  {v:8.0f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", help="comma-separated row counts (default 10000,100000,1000000)")
    ap.add_argument("--ops", help=f"comma-separated parts of {','.join(ALL_PARTS)} (default all)")
    ap.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per subprocess")
    ap.add_argument("--threads", type=int, default=1, help="native threads per subprocess")
    ap.add_argument("--json", help="also write every row to this file")
    ap.add_argument(
        "--report", nargs="+", metavar="JSON", help="print one table from earlier --json files"
    )
    ap.add_argument("--child", nargs=3, metavar=("PART", "N", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(a.child[0], int(a.child[1]), a.child[2])
        return
    if a.report:
        print(report([r for f in a.report for r in json.loads(Path(f).read_text())], {}))
        return
    sizes = (
        [int(s) for s in a.sizes.split(",")]
        if a.sizes
        else list(QUICK_SIZES if a.quick else FULL_SIZES)
    )
    parts = a.ops.split(",") if a.ops else list(ALL_PARTS)
    unknown = sorted(set(parts) - set(ALL_PARTS))
    if unknown:
        ap.error(f"unknown --ops {unknown}; choose from {','.join(ALL_PARTS)}")
    tmp = HERE / "_out" / "scale"
    tmp.mkdir(parents=True, exist_ok=True)
    print(
        f"scale benchmark: sizes {sizes}, parts {parts}; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, {a.threads} native thread(s) per process (BLAS, OpenMP, numba)",
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    rss: dict[tuple[str, int], float] = {}
    t_all = time.monotonic()
    for part in parts:
        for n in sorted(sizes):
            if part == "mixed" and n > MIXED_MAX:
                continue
            t0 = time.monotonic()
            got, rss[(part, n)] = run_size(part, n, a.timeout, tmp, a.threads)
            rows += got
            brief = ", ".join(
                f"{r['op']} {r.get('impl')}: {r['seconds']:.2f} s"
                if not r.get("skipped")
                else f"{r['op']}: {r['skipped']}"
                for r in got
            )
            print(f"  {part} at {n:,}: {time.monotonic() - t0:.0f} s in all ({brief})", flush=True)
    print()
    print(report(rows, rss))
    print(f"\ntotal {time.monotonic() - t_all:.0f} s")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1, default=_json_default))


if __name__ == "__main__":
    main()
