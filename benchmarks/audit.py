"""``ds.audit()`` vs cleanlab's Datalab, type by type, measured in the same run (issue 20).

Every data set is generated here with issues injected at known rows (seeded), and both
sides get the SAME out-of-sample probabilities (ours, cross-validated once) and the SAME
features. Scored:

- shared types (label, near_duplicate, outlier, null, class_imbalance, underperforming_group,
  data_valuation): detection F1 of the flagged rows against the injected ones, ours next to
  Datalab's ``is_<type>_issue``; non_iid is a dataset-level test: AUROC of ``1 - p`` over
  data sets with and without an order effect (sorted by label, a drift), ours vs Datalab's
  p-value; data_valuation also as flipped labels found among the ``budget`` lowest values
  (budget = the number flipped);
- types Datalab lacks, against a named baseline: leakage vs Datalab's near_duplicate run on
  train+test together (a test row in a set with a training row); identifier vs Datalab's
  identifier_column check and vs "every value distinct"; target_leak vs |Spearman
  correlation with the label code| >= 0.9; image vs cleanvision (Datalab's image issues)
  on the same images;
- clean data: the share of rows each type flags;
- time: the whole audit on 20,000 x 20 vs ``Datalab.find_issues()`` with its default types,
  on the same probabilities and features (CPU seconds, one native thread each).

Numbers are printed, never asserted. Run: ``python benchmarks/audit.py`` (``--only`` one
part: shared, noniid, others, image, clean, time).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

import dcai_jupyter as dj
from dcai_jupyter.ops import out_of_sample_pred_probs

warnings.filterwarnings("ignore")
os.environ.setdefault("TQDM_DISABLE", "1")


# ---------------------------------------------------------------------------- helpers
def f1(flagged: Any, truth: Any) -> float:
    a, b = np.asarray(flagged, dtype=bool), np.asarray(truth, dtype=bool)
    tp = int((a & b).sum())
    if tp == 0:
        return 0.0
    p, r = tp / a.sum(), tp / b.sum()
    return 2 * p * r / (p + r)


def table(
    n: int, d: int = 20, k: int = 5, seed: int = 0, sep: float = 1.5
) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(
        n_samples=n,
        n_features=d,
        n_informative=min(d, 10),
        n_redundant=0,
        n_classes=k,
        n_clusters_per_class=1,
        class_sep=sep,
        flip_y=0.0,
        random_state=seed,
    )
    return X, y


def frame(X: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    df["label"] = y
    return df


def probs(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return out_of_sample_pred_probs(X, y, progress=False, random_state=0)


def ours(df: pd.DataFrame, types: list[str], P: np.ndarray | None = None, **kw: Any) -> Any:
    ds = dj.Dataset(df, label="label", history=":memory:")
    return ds.audit(types=types, pred_probs=P, progress=False, **kw)


def datalab(df: pd.DataFrame, issue_types: dict | None, P=None, X=None) -> Any:
    from cleanlab import Datalab

    lab = Datalab(data=df[["label"]].copy(), label_name="label", verbosity=0)
    kwargs: dict[str, Any] = {}
    if P is not None:
        kwargs["pred_probs"] = P
    if X is not None:
        kwargs["features"] = X
    lab.find_issues(issue_types=issue_types, **kwargs)
    return lab


def dl_flags(lab: Any, kind: str) -> np.ndarray:
    return lab.get_issues(kind)[f"is_{kind}_issue"].to_numpy(dtype=bool)


def flip(y: np.ndarray, rows: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    y = y.copy()
    y[rows] = (y[rows] + rng.integers(1, k, size=len(rows))) % k
    return y


def line(kind: str, a: float, b: float, how: str, other: str = "Datalab") -> None:
    print(f"  {kind:<22} ours {a:6.3f}   {other:<26} {b:6.3f}   ({how})")


# ---------------------------------------------------------------------------- shared types
def shared(n: int = 4000) -> None:
    print(f"\nShared types (detection F1 of flagged rows; {n} x 20, 5 classes):")
    rng = np.random.default_rng(0)
    k = 5
    # label: 10 % flipped
    X, y = table(n, seed=1)
    rows = rng.choice(n, n // 10, replace=False)
    yn = flip(y, rows, k, rng)
    truth = np.zeros(n, bool)
    truth[rows] = True
    df = frame(X, yn)
    P = probs(X, yn)
    a = ours(df, ["label"], P)
    lab = datalab(df, {"label": {}}, P=P)
    line(
        "label",
        f1(a["label"].flags.reindex(range(n)).to_numpy(), truth),
        f1(dl_flags(lab, "label"), truth),
        "10% flipped labels",
    )

    # data_valuation: the same flips; F1 of flagged, and precision at the budget
    a = ours(df, ["data_valuation"], P)
    from cleanlab import Datalab

    lab = Datalab(data=df[["label"]].copy(), label_name="label", verbosity=0)
    lab.find_issues(features=X, issue_types={"data_valuation": {}})
    dv = lab.get_issues("data_valuation")
    ours_score = a["data_valuation"].frame["score"].reindex(range(n)).to_numpy()
    budget = len(rows)
    top_ours = np.argsort(-ours_score, kind="stable")[:budget]
    top_dl = np.argsort(dv["data_valuation_score"].to_numpy(), kind="stable")[:budget]
    line(
        "data_valuation",
        f1(a["data_valuation"].flags.reindex(range(n)).to_numpy(), truth),
        f1(dl_flags(lab, "data_valuation"), truth),
        "F1 of flagged, 10% flipped",
    )
    line(
        "data_valuation@budget",
        truth[top_ours].mean(),
        truth[top_dl].mean(),
        f"flipped among the {budget} lowest values",
    )

    # near duplicates: 3 % copies with 1 % jitter; truth = the copies and their sources
    X, y = table(n, seed=2)
    src = rng.choice(n, n * 3 // 100, replace=False)
    copies = X[src] + rng.normal(0, 0.01, size=(len(src), X.shape[1])) * X.std(axis=0)
    X2 = np.vstack([X, copies])
    y2 = np.concatenate([y, y[src]])
    m = len(y2)
    truth = np.zeros(m, bool)
    truth[src] = True
    truth[n:] = True
    df = frame(X2, y2)
    P = probs(X2, y2)
    a = ours(df, ["near_duplicate"], P)
    g = a["near_duplicate"].frame["group"].reindex(range(m)).notna().to_numpy()
    lab = datalab(df, {"near_duplicate": {}}, X=X2)
    line(
        "near_duplicate",
        f1(g, truth),
        f1(dl_flags(lab, "near_duplicate"), truth),
        "rows in a set, 3% near copies",
    )

    # outliers: 2 % uniform in the feature box
    X, y = table(n, seed=3)
    lo, hi = X.min(axis=0), X.max(axis=0)
    out = rng.uniform(lo, hi, size=(n // 50, X.shape[1]))
    X2 = np.vstack([X, out])
    y2 = np.concatenate([y, rng.integers(0, k, len(out))])
    m = len(y2)
    truth = np.arange(m) >= n
    df = frame(X2, y2)
    P = probs(X2, y2)
    a = ours(df, ["outlier"], P)
    lab = datalab(df, {"outlier": {}}, X=X2)
    line(
        "outlier",
        f1(a["outlier"].flags.reindex(range(m)).to_numpy(), truth),
        f1(dl_flags(lab, "outlier"), truth),
        "2% uniform in the box",
    )

    # null: 1.5 % rows with 70 % missing, 0.5 % all missing
    X, y = table(n, seed=4)
    Xn = X.copy()
    part = rng.choice(n, n * 2 // 100, replace=False)
    whole, most = part[: n // 200], part[n // 200 :]
    Xn[whole] = np.nan
    for r in most:
        Xn[r, rng.choice(20, 14, replace=False)] = np.nan
    truth = np.zeros(n, bool)
    truth[part] = True
    df = frame(Xn, y)
    a = ours(df, ["null"])
    lab = datalab(df, {"null": {}}, X=Xn)
    line(
        "null",
        f1(a["null"].flags.reindex(range(n)).to_numpy(), truth),
        f1(dl_flags(lab, "null"), truth),
        "0.5% all + 1.5% 70% missing",
    )

    # class imbalance: classes of 1 % and 3 % among 5
    sizes = [int(n * s) for s in (0.01, 0.03, 0.32, 0.32, 0.32)]
    X, y = table(n * 3, seed=5)
    pick = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), s, replace=False) for c, s in enumerate(sizes)]
    )
    X, y = X[pick], y[pick]
    m = len(y)
    truth = y <= 1
    df = frame(X, y)
    P = probs(X, y)
    a = ours(df, ["class_imbalance"], P)
    lab = datalab(df, {"class_imbalance": {}}, P=P, X=X)
    line(
        "class_imbalance",
        f1(a["class_imbalance"].flags.reindex(range(m)).to_numpy(), truth),
        f1(dl_flags(lab, "class_imbalance"), truth),
        "classes of 1% and 3% among 5",
    )

    # underperforming group: a ball holding ~6 % of rows, 40 % of its labels flipped, in 20
    # features (10 informative) and in 4
    for d in (20, 4):
        X, y = table(n, d=d, seed=6)
        c = X[rng.integers(n)]
        dist = np.linalg.norm(X - c, axis=1)
        region = dist <= np.quantile(dist, 0.06)
        rows = np.flatnonzero(region & (rng.random(n) < 0.4))
        yn = flip(y, rows, k, rng)
        df = frame(X, yn)
        P = probs(X, yn)
        a = ours(df, ["underperforming_group"], P)
        lab = datalab(df, {"underperforming_group": {}}, P=P, X=X)
        line(
            "underperforming_group",
            f1(a["underperforming_group"].flags.reindex(range(n)).to_numpy(), region),
            f1(dl_flags(lab, "underperforming_group"), region),
            f"6% ball with 40% flipped, {d} features",
        )


# ---------------------------------------------------------------------------- non-iid
def noniid(n: int = 2000, reps: int = 20) -> None:
    print(
        f"\nnon_iid (dataset-level AUROC of 1 - p; {reps} shuffled vs {reps} ordered per kind, {n} x 20):"
    )
    rng = np.random.default_rng(0)
    for kind, size in (
        ("sorted by label (30% of rows)", 0.3),
        ("sorted by label (8% of rows)", 0.08),
        ("drift (mean shift 0.5 SD over the order)", 0.5),
        ("drift (mean shift 0.15 SD over the order)", 0.15),
    ):
        ps_o, ps_d, truth = [], [], []
        for r in range(reps):
            for ordered in (False, True):
                X, y = table(n, seed=100 + r)
                perm = rng.permutation(n)
                X, y = X[perm], y[perm]
                if ordered and kind.startswith("sorted"):
                    block = np.arange(int(size * n))
                    o = block[np.argsort(y[block], kind="stable")]
                    X[block], y[block] = X[o], y[o]
                elif ordered:
                    X = X + np.linspace(0, size, n)[:, None] * X.std(axis=0)
                df = frame(X, y)
                a = ours(df, ["non_iid"])
                lab = datalab(df, {"non_iid": {}}, X=X)
                ps_o.append(a["non_iid"].frame.attrs["p_value"])
                ps_d.append(lab.get_info("non_iid")["p-value"])
                truth.append(ordered)
        line(
            "non_iid AUROC",
            roc_auc_score(truth, 1 - np.array(ps_o)),
            roc_auc_score(truth, 1 - np.array(ps_d)),
            kind,
        )


# ---------------------------------------------------------------------------- types Datalab lacks
def others(n: int = 3000) -> None:
    print("\nTypes Datalab lacks, against named baselines:")
    rng = np.random.default_rng(0)
    # leakage: 600 test rows, 30 exact and 30 near (0.5 % jitter) copies of training rows
    X, y = table(n + 600, seed=7)
    Xtr, ytr, Xte = X[:n], y[:n], X[n:].copy()
    src = rng.choice(n, 60, replace=False)
    Xte[:30] = Xtr[src[:30]]
    Xte[30:60] = Xtr[src[30:]] + rng.normal(0, 0.005, (30, X.shape[1])) * X.std(axis=0)
    truth_test = np.arange(600) < 60
    df = frame(Xtr, ytr)
    test = pd.DataFrame(Xte, columns=df.columns[:-1])
    a = ours(df, ["leakage"], test=test)
    leaked = np.zeros(600, bool)
    leaked[[int(t) for t in a["leakage"].frame.attrs["test_rows"]]] = True
    both = np.vstack([Xtr, Xte])
    lab = datalab(
        frame(both, np.concatenate([ytr, np.zeros(600, int)])), {"near_duplicate": {}}, X=both
    )
    sets = lab.get_info("near_duplicate")["near_duplicate_sets"]
    base = np.zeros(600, bool)
    for t in range(600):
        members = np.asarray(sets[n + t])
        base[t] = bool(len(members)) and bool((members < n).any())
    line(
        "leakage (test rows)",
        f1(leaked, truth_test),
        f1(base, truth_test),
        "30 exact + 30 near copies",
        "Datalab near_dup on train+test",
    )

    # identifier / target_leak: 20 features + 3 ids (one not sequential) + 2 leaks
    X, y = table(n, seed=8)
    df = frame(X, y)
    df["order_id"] = rng.permutation(n) + 10_000
    df["customer"] = [f"c{i:06d}" for i in rng.permutation(n)]
    df["account"] = rng.choice(90_000_000, n, replace=False) + 10_000_000  # not sequential
    df["status_code"] = np.where(rng.random(n) < 0.005, "X", np.array(list("ABCDE"))[y])
    df["score_leak"] = y + rng.normal(0, 0.05, n)
    ds = dj.Dataset(
        df,
        label="label",
        history=":memory:",
        roles={"order_id": "numeric", "customer": "categorical", "account": "numeric"},
    )
    audit = ds.audit(types=["identifier", "target_leak"], progress=False)
    cols = [c for c in df.columns if c != "label"]
    want_id = np.array([c in ("order_id", "customer", "account") for c in cols])
    want_leak = np.array([c in ("status_code", "score_leak") for c in cols])
    got_id = np.array([c in audit["identifier"].frame.attrs["columns"] for c in cols])
    got_leak = np.array([c in audit["target_leak"].frame.attrs["columns"] for c in cols])
    distinct = np.array([df[c].nunique() == n for c in cols])
    try:
        from cleanlab import Datalab

        coded = df[cols].apply(
            lambda s: s if pd.api.types.is_numeric_dtype(s) else pd.Series(pd.factorize(s)[0])
        )
        lab = Datalab(data=coded.assign(label=y), label_name="label", verbosity=0)
        # Datalab 2.9 does not run this type for classification: its issue manager directly
        from cleanlab.datalab.internal.issue_manager.identifier_column import (
            IdentifierColumnIssueManager,
        )

        manager = IdentifierColumnIssueManager(datalab=lab)
        manager.find_issues(features=coded)
        info = manager.info
        dl_cols = set(np.asarray(info.get("identifier_columns", [])).tolist())
        dl_id = np.array([j in dl_cols for j in range(len(cols))])
        line(
            "identifier (columns)",
            f1(got_id, want_id),
            f1(dl_id, want_id),
            "3 id columns among 25",
            "Datalab identifier_column",
        )
    except Exception as e:  # pragma: no cover - depends on the cleanlab version
        print(f"  identifier: Datalab identifier_column failed: {type(e).__name__}: {e}")
    line(
        "identifier (columns)",
        f1(got_id, want_id),
        f1(distinct, want_id),
        "3 id columns among 25",
        "every value distinct",
    )
    corr = []
    for c in cols:
        v = df[c].to_numpy() if pd.api.types.is_numeric_dtype(df[c]) else pd.factorize(df[c])[0]
        corr.append(abs(spearmanr(v, y).statistic) >= 0.9)
    line(
        "target_leak (columns)",
        f1(got_leak, want_leak),
        f1(np.array(corr), want_leak),
        "2 leaking columns among 25",
        "|Spearman| >= 0.9",
    )


# ---------------------------------------------------------------------------- images
def images(n: int = 400) -> None:
    print(f"\nimage ({n} textured 48x48 RGB images, 20 dark, 20 blurred; F1 per issue):")
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(0)
    imgs = []
    for _ in range(n):
        base = rng.normal(128, 40, size=(12, 12, 3))
        img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).resize(
            (48, 48), Image.BILINEAR
        )
        noise = rng.normal(0, 25, size=(48, 48, 3))
        imgs.append(np.clip(np.asarray(img, dtype=float) + noise, 0, 255).astype(np.uint8))
    dark = np.arange(n) < 20
    blur = (np.arange(n) >= 20) & (np.arange(n) < 40)
    for i in np.flatnonzero(dark):
        imgs[i] = (imgs[i] * 0.12).astype(np.uint8)
    for i in np.flatnonzero(blur):
        imgs[i] = np.asarray(Image.fromarray(imgs[i]).filter(ImageFilter.GaussianBlur(3)))
    df = pd.DataFrame({"image": imgs, "label": rng.integers(0, 2, n)})
    a = ours(df, ["image"])
    issues = a["image"].frame["issues"].reindex(range(n)).fillna("")
    o_dark = issues.str.contains("dark").to_numpy()
    o_blur = issues.str.contains("blurry").to_numpy()
    try:
        from cleanvision import Imagelab

        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i, im in enumerate(imgs):
                p = os.path.join(tmp, f"{i:04d}.png")
                Image.fromarray(im).save(p)
                paths.append(p)
            il = Imagelab(filepaths=paths)
            il.find_issues({"dark": {}, "blurry": {}}, verbose=False)
            res = il.issues.reindex(paths)
            c_dark = res["is_dark_issue"].to_numpy(bool)
            c_blur = res["is_blurry_issue"].to_numpy(bool)
            c_blur_score = res["blurry_score"].to_numpy(float)
        line("image: dark", f1(o_dark, dark), f1(c_dark, dark), "x0.12 brightness", "cleanvision")
        line(
            "image: blurry", f1(o_blur, blur), f1(c_blur, blur), "Gaussian blur r=3", "cleanvision"
        )
        o_blur_score = a["image"].frame["blurry"].reindex(range(n)).to_numpy(float)
        undark = ~dark
        line(
            "image: blurry AUROC",
            roc_auc_score(blur[undark], -o_blur_score[undark]),
            roc_auc_score(blur[undark], -c_blur_score[undark]),
            "the scores, dark images left out",
            "cleanvision",
        )
        rest = ~(dark | blur)
        o_any = a["image"].flags.reindex(range(n)).to_numpy()
        print(
            f"  image: untouched images flagged (any issue): ours {o_any[rest].mean():.1%}, "
            f"cleanvision (dark or blurry) {(c_dark | c_blur)[rest].mean():.1%}"
        )
    except ImportError:
        print("  cleanvision is not installed: pip install cleanvision")
        print(
            f"  image: dark ours F1 {f1(o_dark, dark):.3f}, blurry ours F1 {f1(o_blur, blur):.3f}"
        )


# ---------------------------------------------------------------------------- clean data
def clean(n: int = 5000) -> None:
    print(
        f"\nClean data ({n} x 20, 5 classes, shuffled; test set without copies): share flagged per type"
    )
    X, y = table(n + 1000, seed=9, sep=2.0)
    df = frame(X[:n], y[:n])
    test = pd.DataFrame(X[n:], columns=df.columns[:-1])
    with threadpool_limits(1):
        a = dj.Dataset(df, label="label", history=":memory:").audit(test=test, progress=False)
    for kind, r in a.summary.iterrows():
        extra = f" ({r['detail']})" if r["detail"] else ""
        print(f"  {kind:<22} {r['share']:7.2%}  {r['severity']}{extra}")


# ---------------------------------------------------------------------------- time
def timing(n: int = 20000) -> None:
    print(f"\nTime, {n} x 20, 5 classes, same probabilities and features (one native thread):")
    X, y = table(n, seed=10)
    rng = np.random.default_rng(0)
    y = flip(y, rng.choice(n, n // 20, replace=False), 5, rng)
    df = frame(X, y)
    t0, c0 = time.perf_counter(), time.process_time()
    P = probs(X, y)
    tp, cp = time.perf_counter() - t0, time.process_time() - c0
    ds = dj.Dataset(df, label="label", history=":memory:")
    t0, c0 = time.perf_counter(), time.process_time()
    a = ds.audit(pred_probs=P, progress=False)
    to, co = time.perf_counter() - t0, time.process_time() - c0
    from cleanlab import Datalab

    lab = Datalab(data=df[["label"]].copy(), label_name="label", verbosity=0)
    t0, c0 = time.perf_counter(), time.process_time()
    lab.find_issues(pred_probs=P, features=X)
    td, cd = time.perf_counter() - t0, time.process_time() - c0
    print(f"  probabilities (ours, cross-validated once): {tp:6.1f} s wall, {cp:6.1f} s CPU")
    print(f"  ds.audit(pred_probs=P), {len(a)} types:      {to:6.1f} s wall, {co:6.1f} s CPU")
    print(
        f"  Datalab.find_issues(pred_probs=P, features=X), default types: {td:6.1f} s wall, {cd:6.1f} s CPU"
    )
    print(f"  ratio ours / Datalab: {co / cd:.2f}x CPU, {to / td:.2f}x wall (target <= 1.5x)")
    print(
        "  per type (s): " + ", ".join(f"{k} {v:.1f}" for k, v in a.summary["seconds"].items() if v)
    )
    same = a.summary.loc[
        [
            "null",
            "label",
            "outlier",
            "near_duplicate",
            "non_iid",
            "class_imbalance",
            "underperforming_group",
        ]
    ]
    print(f"  of which Datalab's default types: {same['seconds'].sum():.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["shared", "noniid", "others", "image", "clean", "time"])
    args = ap.parse_args()
    parts = {
        "shared": shared,
        "noniid": noniid,
        "others": others,
        "image": images,
        "clean": clean,
        "time": timing,
    }
    with threadpool_limits(1):
        for name, fn in parts.items():
            if args.only in (None, name):
                fn()


if __name__ == "__main__":
    main()
