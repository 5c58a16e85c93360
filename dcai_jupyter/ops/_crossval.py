"""Out-of-sample probabilities: ONE cross-validation runner every model-based operation uses.

- :func:`out_of_sample_pred_probs`: stratified K-fold ``predict_proba`` for any
  scikit-learn classifier, or (``model=None``) the default ensemble: a leave-one-out
  k-nearest-neighbour vote on standardised features, a logistic regression and a
  Gaussian-per-class (quadratic discriminant) model fit per fold (a Gaussian mixture per
  class where a class holds several clusters), mixed with the weights
  whose predictions agree best with the given labels out of fold (:mod:`._model_choice`),
  then refit without the samples confident learning flags (refining passes).
- :func:`run_tasks`: the runner underneath. It runs ``(key, fn, args)`` tasks through
  joblib (``n_jobs``; a ``joblib.parallel_backend(...)`` context, e.g. dask, is honoured),
  with one native BLAS/OpenMP thread per task (threadpoolctl) and a ``tqdm.auto``
  progress bar.
- :func:`stratified_folds` and :func:`fit_predict_proba` (from :mod:`._folds`): the folds
  and the per-fold fit, for operations that need their own tasks.

scikit-learn, joblib, threadpoolctl and tqdm are imported when first used.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np
import pandas as pd

from ._features import feature_matrix
from ._folds import fit_predict_proba, stratified_folds
from ._model_choice import (
    CHOICE_MAX_ROWS,
    LARGE_ROWS,
    _subsample,
    choose_weights,
    combine,
    linear_task,
    mixture_components,
    mixture_task,
    quadratic_task,
)
from ._tabular import Design, design_members
from ._validation import encode_labels

__all__ = [
    "HGB_PARAMS",
    "KNN_K",
    "KNN_MAX_DIMS",
    "KNN_MAX_REFERENCE",
    "KNN_SEARCH_FACTOR",
    "REFINE_PASSES",
    "Task",
    "fit_predict_proba",
    "out_of_sample_pred_probs",
    "probs_refined",
    "run_tasks",
    "stratified_folds",
]

#: neighbours in the leave-one-out vote (fewer on small data sets)
KNN_K = 20
#: above this many features the kNN vote runs on this many principal components
KNN_MAX_DIMS = 64
#: above this many rows, neighbours are searched among a fixed random subset of this size,
#: so the search (the costliest step) grows linearly. 4,000 (was 8,000 before the mixture
#: member): the search is half the cost of the pipeline on 20k x 20, and halving it pays for
#: the mixture member within the 2.5 s budget; on that case the kNN vote got weight 0 in
#: every pass once the mixture was there, and the same neighbour count among 4,000 rows
#: still describes the local label noise of a dense data set
KNN_MAX_REFERENCE = 4000
#: the neighbour lists hold this many times ``KNN_K`` neighbours, so a vote keeps its
#: ``KNN_K`` voters when a refining pass leaves out the flagged rows (up to half of them)
KNN_SEARCH_FACTOR = 2
#: the kNN vote is counted in blocks of this many rows (bounded temporaries)
VOTE_CHUNK = 65_536
#: refining passes of the default ensemble: each refits the members without the rows the
#: previous pass flagged (see :func:`out_of_sample_pred_probs`)
REFINE_PASSES = 2
#: ... on a mixed table (:mod:`._tabular`): none. On the nine tables of
#: benchmarks/real_tables.py the refining passes did not raise the mean F1 (0, 1, 2 passes:
#: 0.605 / 0.599 / 0.599 at 10 % uniform noise, 0.656 / 0.661 / 0.658 at 20 % asymmetric)
#: and cost a sixth more CPU each; without them no table fell below cleanlab on the
#: logistic-regression pipeline (one refining pass lost 0.04 F1 to it on ISLR/Carseats)
MIXED_REFINE_PASSES = 0
#: whether a mixed table's ensemble has the Gaussian member (QDA or mixture): it got weight
#: 0 on 7 of the 9 tables of benchmarks/real_tables.py (at most 0.2 elsewhere), on one-hot
#: columns its covariances say little; without it the mean F1 stayed 0.599, CPU -21 %
MIXED_GAUSSIAN = False
#: the Gaussian member is left out on more feature columns than this: its covariances cost
#: d^3 per class, fold and pass (3,072 raw pixels of 60 images: minutes, in the eigen
#: solver scikit-learn falls back to when a class has fewer rows than columns), and a
#: Gaussian of so many columns is not estimable from the rows such data comes with
GAUSS_MAX_DIMS = 1024
#: a small gradient-boosting model (used by active learning's committee)
HGB_PARAMS: dict[str, Any] = {
    "max_iter": 12,
    "learning_rate": 0.3,
    "max_leaf_nodes": 15,
    "max_bins": 63,
    "early_stopping": False,
}

#: one unit of work for :func:`run_tasks`: ``(key, function, positional arguments)``
Task = tuple[Any, Callable[..., Any], tuple[Any, ...]]
#: an extra ensemble member: ``(name, fn, data)``, ``fn(data, codes, train, test, K, seed)``
Member = tuple[str, Callable[..., np.ndarray], Any]


def _as_matrix(X: Any) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        if all(pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t) for t in X.dtypes):
            return X.to_numpy(dtype=np.float64, na_value=np.nan)
        return feature_matrix(X)[0]
    if hasattr(X, "tocsr"):  # scipy sparse: models handle it; the kNN part densifies
        return X
    arr = np.asarray(X)
    if arr.ndim == 1:
        raise ValueError("X must be 2-D (n_samples, n_features); got a 1-D array")
    if arr.ndim > 2:
        arr = arr.reshape(len(arr), -1)
    try:
        return arr.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        raise ValueError(
            "X must be numeric; for a DataFrame with text or categorical columns pass the "
            "DataFrame itself (it is encoded with feature_matrix)"
        ) from None


def _check_cv(codes: np.ndarray, cls: list[Any], cv: int) -> None:
    if isinstance(cv, bool) or not isinstance(cv, numbers.Integral) or cv < 2:
        raise ValueError(f"cv must be an integer number of folds >= 2; got {cv!r}")
    counts = np.bincount(codes, minlength=len(cls))
    present = np.flatnonzero(counts)
    if len(present) < 2:
        raise ValueError(
            f"every label is {cls[int(present[0])]!r}: cross-validated probabilities need "
            "samples of at least two classes"
        )
    small = [int(c) for c in present if counts[c] < cv]
    if small:
        worst = min(small, key=lambda c: counts[c])
        m = int(counts[worst])
        names = ", ".join(f"{cls[c]!r} ({counts[c]})" for c in small[:10])
        hint = (
            f"use cv={m}"
            if m >= 2
            else "add samples of it or remove it (cross-validation needs at least 2 per class)"
        )
        raise ValueError(
            f"class {cls[worst]!r} has only {m} sample(s), fewer than cv={cv} folds "
            f"(classes below {cv}: {names}): {hint}"
        )


def _progress(total: int, enabled: bool, desc: str) -> Any:
    # not tqdm.auto: its notebook widget leaves "model not found" in a saved notebook
    from ._progress import progress_bar

    return progress_bar(total=total, desc=desc, disable=not enabled)


def run_tasks(
    tasks: Sequence[Task],
    *,
    n_jobs: int | None = None,
    progress: bool = True,
    desc: str = "",
    prefer: str | None = None,
    bar: Any = None,
) -> dict[Any, Any]:
    """Run ``(key, fn, args)`` tasks through joblib; the results by key.

    Parameters
    ----------
    tasks
        ``(key, fn, args)`` triples; ``fn(*args)`` is one unit of work (a fold's fit, a
        chunk of neighbour searches). ``fn`` must be a module-level function so process
        and cluster backends can send it.
    n_jobs
        joblib workers (``None``: 1, or what an enclosing ``joblib.parallel_backend``
        context says; ``-1``: all cores).
    progress
        Show a progress bar that advances per task (in a notebook an output that stays
        as one line of text when done, see :mod:`._progress`; tqdm's text bar elsewhere).
    desc
        The bar's label.
    prefer
        joblib's soft backend hint (``"threads"`` for tasks that release the GIL); an
        enclosing ``parallel_backend`` context wins.
    bar
        An open progress bar (:func:`._progress.progress_bar`) to advance instead of a new
        one (``progress`` and ``desc`` are then ignored): several rounds of tasks, one bar.

    Returns
    -------
    dict
        ``{key: fn(*args)}`` for every task.

    Notes
    -----
    Every task runs with one native (BLAS/OpenMP) thread, set inside the worker
    (threadpoolctl limits are per thread and per process), so ``n_jobs`` workers use about
    ``n_jobs`` cores. The results do not depend on ``n_jobs`` or the backend.
    """
    from joblib import Parallel, delayed, effective_n_jobs
    from threadpoolctl import threadpool_limits

    out: dict[Any, Any] = {}
    own = _progress(len(tasks), progress, desc) if bar is None else nullcontext(bar)
    with threadpool_limits(1), own as b:
        if effective_n_jobs(n_jobs) == 1:
            # one worker (no n_jobs, no enclosing parallel_backend): the tasks run in this
            # thread, under the limit just set. A limit per task scans the loaded libraries
            # again (~4 ms each): 0.06 of 0.6 s CPU on a 400-row table (ISLR/Carseats)
            for key, fn, args in tasks:
                out[key] = fn(*args)
                b.update(1)
            return out
        par = Parallel(n_jobs=n_jobs, prefer=prefer, return_as="generator")
        for key, value in par(delayed(_limited)(key, fn, args) for key, fn, args in tasks):
            out[key] = value
            b.update(1)
    return out


def _limited(key: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, Any]:
    from threadpoolctl import threadpool_limits

    # threadpoolctl's OpenMP limit is per thread: set it inside every worker.
    with threadpool_limits(1):
        return key, fn(*args)


def out_of_sample_pred_probs(
    X: Any,
    y: Any,
    *,
    model: Any = None,
    cv: int = 5,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    progress: bool = True,
    classes: Sequence[Any] | None = None,
    desc: str = "cross-validation",
) -> np.ndarray:
    """Out-of-sample predicted probabilities by stratified K-fold cross-validation.

    Parameters
    ----------
    X : array-like of shape (n, d) or DataFrame
        Features. A DataFrame with non-numeric columns is encoded with
        :func:`~dcai_jupyter.ops.feature_matrix`.
    y : sequence of length n
        Labels (any class values; no missing values).
    model : scikit-learn classifier with ``predict_proba``, optional
        Cloned and fit once per fold. ``None``: the default ensemble, chosen from the
        data. Three members give out-of-sample probabilities: a leave-one-out
        k-nearest-neighbour vote (k = 20) on standardised features (at most 64 principal
        components; above 4,000 rows the neighbours come from a fixed random subset of
        4,000 reference rows, so the cost grows linearly), a ``LogisticRegression`` (fit on
        at most 2,500 rows per fold) and a Gaussian member on the standardised features:
        ``QuadraticDiscriminantAnalysis`` (covariances shrunk by 0.1 towards the identity,
        at most 5,000 rows per fold), or a mixture of up to 3 such Gaussians per class
        (:func:`~._model_choice.mixture_task`) when BIC finds several clusters in some
        class and, on the first pass, the mixture's out-of-fold predictions agree with the
        given labels significantly more often than the single Gaussian's (McNemar's test
        at 5 %). On ``make_classification`` data (two clusters per class) the mixture
        raised the F1 of the flags from 0.63-0.79 to 0.87-0.93; on data whose classes are
        single clusters the test keeps the single Gaussian. They are
        mixed with the convex weights (multiples of 0.1) whose most probable class agrees
        most often with the given labels out of fold (ties: lowest log-loss): the labels
        are mostly right, so the mix that predicts them best predicts the true class best.
        Then up to ``REFINE_PASSES`` (2) refining passes: the members are fit again (and
        the kNN vote taken again, from the same neighbour lists) without the samples that
        confident learning (:func:`~dcai_jupyter.ops.find_label_issues`, default rule)
        flags on the previous pass's mix, and mixed again; they stop early when the flags
        no longer change. A model trained on wrong labels learns part of them and then
        vouches for them; leaving the suspects out of training sharpens the probabilities
        of the true class for every sample (the suspects included, which are still
        predicted out of fold). On the small and nearly linear cases of
        ``benchmarks/label_issues.py`` the two passes raised the mean F1 of the flags by
        0.02 and the recall within a review budget of the number of errors by 0.02.
        Large data (issue 21): the weights are chosen on at most 20,000 rows, and the kNN
        vote (the costliest member) is taken on the other rows only when a pass gives it a
        weight; above ``LARGE_ROWS`` (100,000) rows that weight must make the mix
        significantly more often right (McNemar at 5 %), and each member fits on the rows
        where its fit stops improving (linear 10,000, quadratic 20,000, mixture 4,000 per
        class). Every step is counted in blocks of rows: nothing is n x n, and 1M x 20
        rows take about 20 s of one core and 1.3 GB (``benchmarks/scale_labels.py``).
        ``X`` may be a mixed table's :class:`~._tabular.Design` (what ``ds.find_label_issues``
        and ``ds.evaluate`` pass when a column is categorical, text, a date or has missing
        values): the linear member then reads its sparse view (one-hot categories, the full
        TF-IDF of each text column) and a ``HistGradientBoostingClassifier`` with native
        categorical splits joins the mix in place of the Gaussian member, without
        refining passes (``MIXED_REFINE_PASSES``); a given ``model`` gets the dense view.
    cv : int
        Number of stratified folds (every class needs at least ``cv`` samples).
    n_jobs : int, optional
        Passed to joblib (``None`` = 1, ``-1`` = all cores). Every task runs with one
        native (BLAS/OpenMP) thread.
    random_state : int, optional
        Seed of the fold shuffle and of the models.
    progress : bool
        Show a progress bar (a notebook widget in Jupyter).
    classes : sequence, optional
        Column order of the result (default: the sorted unique labels).
    desc : str
        The step the progress line names (the caller's: ``"label issues"``, ``"evaluate"``,
        ...); with ``model`` given, the folds and the model follow (``"evaluate, 5-fold
        LogisticRegression: 5/5 done in 0.4 s"``).

    Returns
    -------
    np.ndarray of shape (n, K)
        Row i: the probabilities of each class for sample i from a model that did not see it.
    """
    codes, cls = encode_labels(y, classes)
    extra: list[Member] = []
    if isinstance(X, Design):  # a mixed table: its sparse and tree views add two members
        extra = design_members(X) if model is None else []
        X = X.dense
    Xm = _as_matrix(X)
    if Xm.shape[0] != len(codes):
        raise ValueError(f"X has {Xm.shape[0]} rows but y has {len(codes)} labels")
    _check_cv(codes, cls, cv)
    if model is None:
        from threadpoolctl import threadpool_limits

        # one native thread for the numpy steps between the tasks too (the weights, the
        # votes): idle BLAS threads spinning after a small matrix product cost more CPU than
        # they save
        with threadpool_limits(1):
            return _refined_ensemble(
                Xm, codes, len(cls), cv, n_jobs, random_state, progress, desc, extra
            )
    if not hasattr(model, "predict_proba"):
        raise TypeError(
            f"model {type(model).__name__} has no predict_proba: pass a classifier that "
            "predicts probabilities (e.g. LogisticRegression, or SVC(probability=True))"
        )
    folds = stratified_folds(codes, cv, random_state)
    tasks = [
        (i, fit_predict_proba, (model, Xm, codes, tr, te, len(cls)))
        for i, (tr, te) in enumerate(folds)
    ]
    res = run_tasks(
        tasks,
        n_jobs=n_jobs,
        progress=progress,
        desc=f"{desc}, {cv}-fold {type(model).__name__}",
    )
    probs = np.zeros((len(codes), len(cls)))
    for i, (_, te) in enumerate(folds):
        probs[te] = res[i]
    return probs


def probs_refined(X: Any, model: Any = None) -> bool:
    """Whether :func:`out_of_sample_pred_probs` of ``X`` with ``model`` refits its members
    without the flagged samples (the default ensemble on numeric data, ``REFINE_PASSES``);
    not with a given model, nor on a mixed table's :class:`~._tabular.Design`
    (``MIXED_REFINE_PASSES``). Label issues count with the kept samples' thresholds where
    the probabilities were not refined (see :func:`~dcai_jupyter.ops.find_label_issues`)."""
    if model is not None:
        return False
    return (MIXED_REFINE_PASSES if isinstance(X, Design) else REFINE_PASSES) > 0


def _standardize(X: Any) -> np.ndarray:
    if hasattr(X, "toarray"):
        X = X.toarray()
    X = np.asarray(X, dtype=np.float64)
    finite = np.isfinite(X)
    if not finite.all():
        med = np.nanmedian(np.where(finite, X, np.nan), axis=0)
        X = np.where(finite, X, np.nan_to_num(med)[None, :])
    mu = X.mean(axis=0)
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    Z = (X - mu) / sd
    if Z.shape[1] > KNN_MAX_DIMS and Z.shape[0] > KNN_MAX_DIMS:
        # (with no more rows than components, PCA cannot reduce: keep the scaled features)
        from sklearn.decomposition import PCA

        Z = PCA(n_components=KNN_MAX_DIMS, svd_solver="randomized", random_state=0).fit_transform(Z)
    return np.ascontiguousarray(Z, dtype=np.float32)


def _knn_task(Z: np.ndarray, ref: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest reference rows of each of ``rows`` (itself excluded), nearest first:
    the neighbour service's exact search (:func:`._neighbours.query`)."""
    from ._neighbours import query

    return query(Z, rows, k, reference=ref)[1]


def _knn_if_significant(members: list[np.ndarray], codes: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``w``, or the best weights without the kNN vote (``members[0]``) when the mix with it
    is not significantly more often right on these rows.

    On large data the vote's weight must pay for its neighbour search over every row (about
    two thirds of the pipeline's cost at 1M rows): the mix with the vote must agree with the
    given labels on significantly more rows than the best mix without it (McNemar's test at
    5 %, as the mixture member must beat the single Gaussian). A weight of 0.1 that wins a
    handful of the 20,000 rows the weights are chosen on is noise.
    """
    w0 = np.concatenate([[0.0], choose_weights(members[1:], codes, max_rows=None)])
    right = combine(members, w).argmax(axis=1) == codes
    right0 = combine(members, w0).argmax(axis=1) == codes
    wins = int((right & ~right0).sum())
    losses = int((right0 & ~right).sum())
    return w if wins - losses > 1.96 * np.sqrt(wins + losses) else w0


def _row_chunks(rows: np.ndarray) -> list[np.ndarray]:
    """``rows`` in at least two chunks of at most about 10,000 (one neighbour task each)."""
    return np.array_split(rows, max(2, int(np.ceil(len(rows) / 10_000))))


def _knn_tasks(Z: np.ndarray, ref: np.ndarray, rows: np.ndarray, k: int) -> list[Task]:
    """The neighbour-search tasks of ``rows``, in chunks (keys ``("knn", i)``)."""
    return [(("knn", i), _knn_task, (Z, ref, part, k)) for i, part in enumerate(_row_chunks(rows))]


def _gather_knn(res: dict[Any, Any]) -> np.ndarray:
    """The neighbour lists of :func:`_knn_tasks`' results, in task order, as int32."""
    parts = sorted((key[1], v) for key, v in res.items() if key[0] == "knn")
    return np.vstack([v for _, v in parts]).astype(np.int32, copy=False)


def _knn_votes(nb: np.ndarray, codes: np.ndarray, keep: np.ndarray, k: int, K: int) -> np.ndarray:
    """Leave-one-out vote of the first ``k`` neighbours in ``nb`` whose row is kept.

    ``nb`` lists more neighbours than ``k`` (nearest first), so a vote still has ``k``
    voters after the rows flagged by a previous pass are left out (fewer when the list
    runs out). One pseudo-vote is spread evenly: no class gets probability 0. Computed in
    blocks of ``VOTE_CHUNK`` rows, so the temporaries stay small whatever ``n``.
    """
    n = len(nb)
    out = np.empty((n, K))
    all_kept = bool(keep.all())
    for s in range(0, n, VOTE_CHUNK):
        b = nb[s : s + VOTE_CHUNK]
        m = len(b)
        if all_kept:  # the first k neighbours vote
            b = b[:, :k]
            kept = None
            used = np.full(m, float(b.shape[1]))
        else:  # the first k kept neighbours: a running count along the (nearest first) list
            kept = keep[b]
            kept &= np.cumsum(kept, axis=1, dtype=np.int32) <= k
            used = kept.sum(axis=1).astype(np.float64)
        cells = np.arange(m, dtype=np.int64)[:, None] * K + codes[b]
        votes = np.bincount(
            cells.ravel() if kept is None else cells[kept], minlength=m * K
        ).reshape(m, K)
        out[s : s + m] = (votes + 1.0 / K) / (used[:, None] + 1.0)
    return out


def _refined_ensemble(
    X: Any,
    codes: np.ndarray,
    K: int,
    cv: int,
    n_jobs: int | None,
    random_state: int | None,
    progress: bool,
    desc: str,
    extra: Sequence[Member] = (),
) -> np.ndarray:
    """The default ensemble's out-of-sample probabilities (see :func:`out_of_sample_pred_probs`).

    Pass 1 mixes the three members fit on every labeled row. Each refining pass fits them
    again without the rows the previous pass flagged (confident learning's default rule)
    and mixes again; it stops early when the flags no longer change.
    """
    n = len(codes)
    Z = _standardize(X)
    k = int(max(1, min(KNN_K, n - 1, max(5, round(np.sqrt(n))))))
    rng = np.random.default_rng(random_state)
    ref = (
        np.arange(n)
        if n <= KNN_MAX_REFERENCE
        else np.sort(rng.choice(n, KNN_MAX_REFERENCE, replace=False))
    )
    # the weights are chosen on at most CHOICE_MAX_ROWS rows (a fixed random subset): the kNN
    # vote is needed everywhere else only when it gets a weight (see _refining_passes)
    choice = (
        np.arange(n)
        if n <= CHOICE_MAX_ROWS
        else _subsample(np.arange(n), CHOICE_MAX_ROWS, random_state)
    )
    chunks = _row_chunks(choice)
    folds = stratified_folds(codes, cv, random_state)
    # the neighbour lists are searched once (the costly step) with room for the refining
    # passes, which leave flagged rows out of the vote instead of searching again
    k_search = min(KNN_SEARCH_FACTOR * k, len(ref) - 1) if len(ref) > 1 else 1
    # the Gaussian member: one shrunk Gaussian per class (QDA), or a mixture per class where
    # BIC finds several clusters in a class; the first pass fits both and keeps the one whose
    # out-of-fold predictions agree more often with the given labels (see below)
    chosen: list[Any]
    if (extra and not MIXED_GAUSSIAN) or Z.shape[1] > GAUSS_MAX_DIMS:
        components, chosen = np.ones(K, dtype=np.int64), [None] * K
        gauss: set[str] = set()
    else:
        components, chosen = mixture_components(Z, codes, K, random_state)
        gauss = {"qda", "mix"} if (components > 1).any() else {"qda"}
    starts: list[Any] = [chosen] * len(folds)
    # one bar for every pass (a line each would leave three in the notebook): the first pass
    # fits every member and searches the neighbours, each refining pass fits the linear and
    # the kept Gaussian member per fold; when the flags repeat early, the bar ends there
    n_extra = sum(1 for m in extra if m[0] != "lr")
    total = len(folds) * (1 + len(gauss) + n_extra) + len(chunks)
    total += (MIXED_REFINE_PASSES if extra else REFINE_PASSES) * 2 * len(folds)
    bar = _progress(total, progress, desc)
    try:
        probs = _refining_passes(
            Z, codes, K, folds, choice, ref, k, k_search, components, starts, gauss,
            n_jobs, random_state, bar, extra,
        )  # fmt: skip
    finally:
        if hasattr(bar, "total"):
            bar.total = bar.n
        bar.close()
    return probs


def _refining_passes(
    Z: np.ndarray,
    codes: np.ndarray,
    K: int,
    folds: list[tuple[np.ndarray, np.ndarray]],
    choice: np.ndarray,
    ref: np.ndarray,
    k: int,
    k_search: int,
    components: np.ndarray,
    starts: list[Any],
    gauss: set[str],
    n_jobs: int | None,
    random_state: int | None,
    bar: Any,
    extra: Sequence[Member] = (),
) -> np.ndarray:
    """The passes of :func:`_refined_ensemble`: its out-of-sample probabilities.

    ``extra`` members (a mixed table's gradient boosting) are fit per fold beside the
    others on the first pass only: the refining passes mix their first-pass probabilities
    again (without it, or at weight 0 after the first pass, they are left out). An extra
    member named ``"lr"`` (a mixed table's linear model on its sparse encoding) replaces
    the linear one. A mixed table gets ``MIXED_REFINE_PASSES`` refining passes.

    The weights are chosen on the rows ``choice`` (every row, or a fixed random subset of
    ``CHOICE_MAX_ROWS`` on large data). The kNN vote, whose neighbour search costs the most,
    is taken there first; the other rows' neighbours are searched only once a pass gives
    the vote a weight. The result is the same as searching every row first (the weights
    depend on ``choice`` only, a member at weight 0 adds nothing), at a fraction of the
    cost when the other members explain the data (on 1M x 20 ``make_classification``
    rows: the kNN vote stays at weight 0 and 20k rows are searched instead of 1M).
    """
    passes = MIXED_REFINE_PASSES if extra else REFINE_PASSES
    lin_fn: Callable[..., Any] = linear_task
    lin_data: Any = Z
    for name, fn, data in extra:
        if name == "lr":
            lin_fn, lin_data = fn, data
    extra = [m for m in extra if m[0] != "lr"]
    extra_probs: dict[str, np.ndarray] = {}
    from ._cl_prune import _flags

    n = len(codes)
    keep = np.ones(n, dtype=bool)
    # the neighbour lists of the choice rows (searched on the first pass) and of the others
    # (searched when the vote first gets a weight)
    nb: np.ndarray | None = None
    nb_rest: np.ndarray | None = None
    every = len(choice) == n
    chosen = np.zeros(n, dtype=bool)
    chosen[choice] = True
    rest = np.flatnonzero(~chosen)
    probs = np.zeros((n, K))
    flags: np.ndarray | None = None
    for _p in range(1 + passes):
        tasks: list[Task] = []
        for i, (tr, te) in enumerate(folds):
            train = tr[keep[tr]]
            tasks.append((("lr", i), lin_fn, (lin_data, codes, train, te, K, random_state)))
            if "qda" in gauss:
                tasks.append((("qda", i), quadratic_task, (Z, codes, train, te, K, random_state)))
            if "mix" in gauss:
                args = (Z, codes, train, te, K, components, starts[i], random_state)
                tasks.append((("mix", i), mixture_task, args))
            if flags is None:  # the extra members are fit once, on the first pass
                for name, fn, data in extra:
                    tasks.append(((name, i), fn, (data, codes, train, te, K, random_state)))
        if nb is None:
            tasks += _knn_tasks(Z, ref, choice, max(k, k_search))
        res = run_tasks(tasks, n_jobs=n_jobs, prefer="threads", bar=bar)
        if nb is None:
            nb = _gather_knn(res)
        p_lr = np.zeros((n, K))
        p_gauss = {name: np.zeros((n, K)) for name in gauss}
        for i, (_, te) in enumerate(folds):
            p_lr[te] = res[("lr", i)]
            if "qda" in gauss:
                p_gauss["qda"][te] = res[("qda", i)]
            if "mix" in gauss:
                p_gauss["mix"][te], starts[i] = res[("mix", i)]
        if len(gauss) == 2:
            # the mixture replaces the single Gaussian only if its most probable class agrees
            # with the given labels out of fold significantly more often (the criterion of
            # the weights, with McNemar's test at 5 %: of the rows where exactly one of the
            # two is right, the mixture must win beyond 1.96 standard deviations of a fair
            # coin). BIC alone is not enough: rows wrongly given to a class form a cluster
            # of their own, which a second component fits (on the small nearly linear cases
            # of benchmarks/label_issues.py a bare majority chose such mixtures and lost up
            # to 0.06 F1; on 20k x 20, where each class is two clusters, the mixture wins by
            # thousands of rows)
            right = {g: p_gauss[g].argmax(axis=1) == codes for g in gauss}
            wins = int((right["mix"] & ~right["qda"]).sum())
            losses = int((right["qda"] & ~right["mix"]).sum())
            gauss = {"mix"} if wins - losses > 1.96 * np.sqrt(wins + losses) else {"qda"}
        p_knn = _knn_votes(nb, codes, keep, k, K)  # the choice rows' votes
        members = [p_lr]
        if gauss:
            members.append(p_gauss[next(iter(gauss))])
        for name, _fn, _data in extra:
            if flags is None:
                p_x = np.zeros((n, K))
                for i, (_, te) in enumerate(folds):
                    p_x[te] = res[(name, i)]
                extra_probs[name] = p_x
            members.append(extra_probs[name])
        n_base = 1 + len(members) - len(extra)
        on_choice = [p_knn] + (members if every else [m[choice] for m in members])
        w = choose_weights(on_choice, codes[choice], max_rows=None)
        if w[0] > 0 and n > LARGE_ROWS:
            w = _knn_if_significant(on_choice, codes[choice], w)
        if w[0] > 0 and not every:
            if nb_rest is None:  # the vote counts: search the other rows' neighbours too
                tasks = _knn_tasks(Z, ref, rest, max(k, k_search))
                if hasattr(bar, "total") and bar.total is not None:
                    bar.total += len(tasks)
                nb_rest = _gather_knn(run_tasks(tasks, n_jobs=n_jobs, prefer="threads", bar=bar))
            full = np.empty((n, K))
            full[choice] = p_knn
            full[rest] = _knn_votes(nb_rest, codes, keep, k, K)
            p_knn = full
        elif not every:
            p_knn = np.zeros((n, K))  # weight 0: adds nothing to the mix
        members = [p_knn, *members]
        probs = combine(members, w)
        extra = [m for m, wm in zip(extra, w[n_base:], strict=True) if wm > 0]  # 0: left out
        new_flags = _flags(codes, probs)
        if flags is not None and np.array_equal(new_flags, flags):
            break
        flags = new_flags
        keep = ~flags
    return probs
