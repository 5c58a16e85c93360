"""The model a pool is scored with: the default model for few labels, fitted on the
labeled rows and predicted over the pool in blocks (active learning and pseudo-labels).

:func:`pool_predictions` fits a model (the user's, or :func:`default_model`) on the
labeled rows and predicts the pool ``POOL_CHUNK`` rows at a time, each block one task
through the shared task runner: bounded temporaries on a 1M-row pool, a progress step per
block, and a cluster's workers when one is set up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["POOL_CHUNK", "default_model", "pool_predictions", "pool_steps"]

#: the pool is predicted in blocks of this many rows (bounded temporaries on a 1M-row pool)
POOL_CHUNK = 65_536


def _check_model(model: Any) -> None:
    if model is not None and not hasattr(model, "predict_proba"):
        raise TypeError(
            f"model {type(model).__name__} has no predict_proba: pass a classifier that "
            "predicts probabilities (e.g. LogisticRegression, or SVC(probability=True))"
        )


def default_model(n_labeled: int, *, random_state: int | None = 0) -> Any:
    """The default model for ``n_labeled`` labeled rows: a soft vote of a distance-weighted
    kNN on standardised features and a small gradient-boosting model (the label-issue
    family, sized so that a few dozen labels already give useful probabilities). Above
    ``POOL_MAX_REFERENCE`` (10,000) labeled rows the kNN votes among a fixed random subset
    of that many (:class:`._pool_knn.ReferenceKNN`), so predicting a pool costs time linear
    in it whatever the number of labels.

    Returns
    -------
    sklearn.ensemble.VotingClassifier
        Unfitted.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, VotingClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from . import _pool_knn
    from ._crossval import HGB_PARAMS, KNN_K

    n = int(n_labeled)
    k = int(max(1, min(KNN_K, max(3, round(np.sqrt(n))), max(1, n - 1))))
    leaf = int(max(2, min(20, n // 10)))
    knn: Any = make_pipeline(
        StandardScaler(), KNeighborsClassifier(n_neighbors=k, weights="distance")
    )
    cap = _pool_knn.POOL_MAX_REFERENCE
    if n > cap:  # the vote among a fixed subset: linear in the pool, not labeled x pool
        knn = _pool_knn.ReferenceKNN(n_neighbors=k, max_reference=cap, random_state=random_state)
    return VotingClassifier(
        [
            ("knn", knn),
            (
                "hgb",
                HistGradientBoostingClassifier(
                    random_state=random_state, min_samples_leaf=leaf, **HGB_PARAMS
                ),
            ),
        ],
        voting="soft",
    )


def _fit(model: Any, X_lab: np.ndarray, codes: np.ndarray) -> Any:
    """A clone of ``model`` fit on the labeled rows (one task of :func:`pool_predictions`)."""
    from sklearn.base import clone

    return clone(model).fit(X_lab, codes)


def _predict_block(est: Any, block: np.ndarray, K: int) -> np.ndarray:
    """The probabilities (len(block), K) of one block of the pool (one task)."""
    p = np.asarray(est.predict_proba(block), dtype=np.float64)
    cols = np.asarray(getattr(est, "classes_", np.arange(p.shape[1])), dtype=np.int64)
    if p.shape[1] == K and np.array_equal(cols, np.arange(K)):
        return p
    out = np.zeros((len(block), K))
    out[:, cols] = p
    return out


def pool_steps(n_pool: int) -> int:
    """The steps of :func:`pool_predictions` a progress bar counts: the fit, then one per
    block of ``POOL_CHUNK`` pool rows."""
    return 1 + -(-int(n_pool) // POOL_CHUNK)


def pool_predictions(
    X_lab: Any,
    y_lab: Any,
    X_pool: Any,
    *,
    model: Any = None,
    classes: Sequence[Any] | None = None,
    random_state: int | None = 0,
    progress: bool = True,
    bar: Any = None,
) -> tuple[np.ndarray, list[Any]]:
    """Fit ``model`` on the labeled rows and predict the pool's class probabilities.

    The pool is predicted in blocks of ``POOL_CHUNK`` rows (one task each, through the
    shared task runner: bounded temporaries, a progress step per block, and a cluster's
    workers when one is set up).

    Parameters
    ----------
    X_lab, y_lab
        Features and labels of the labeled rows (at least two classes).
    X_pool
        Features of the pool rows.
    model
        A scikit-learn classifier with ``predict_proba`` (cloned). ``None``:
        :func:`default_model`.
    classes
        The class order of the result's columns (default: the sorted labels present);
        a class with no labeled row gets probability 0.
    random_state
        Seed of the default model.
    progress
        Show a progress line (the fit, then each block of the pool) on a pool of at least
        ``STAGE_BAR_ROWS`` rows.
    bar
        An open progress bar to advance instead (``progress`` is then ignored): one line
        for a whole operation; it counts :func:`pool_steps` steps.

    Returns
    -------
    probs : np.ndarray of shape (n_pool, K)
    classes : list
    """
    from ._base import STAGE_BAR_ROWS
    from ._crossval import run_tasks
    from ._progress import progress_bar
    from ._validation import encode_labels

    _check_model(model)
    codes, cls = encode_labels(y_lab, classes)
    present = np.unique(codes)
    if len(present) < 2:
        raise ValueError(
            f"every labeled row is {cls[int(present[0])]!r}: a model needs labeled rows of at "
            "least two classes. Label a few pool rows of other classes first "
            "(strategy='random' suggests some without a model)"
        )
    Xl = np.asarray(X_lab, dtype=np.float64)
    Xp = np.asarray(X_pool, dtype=np.float64)
    if model is None:
        model = default_model(len(codes), random_state=random_state)
    K = len(cls)
    show = progress and len(Xl) + len(Xp) >= STAGE_BAR_ROWS
    own = (
        progress_bar(total=pool_steps(len(Xp)), desc="pool predictions", disable=not show)
        if bar is None
        else contextlib.nullcontext(bar)
    )
    with own as b:
        est = run_tasks([("fit", _fit, (model, Xl, codes))], bar=b)["fit"]
        starts = range(0, len(Xp), POOL_CHUNK)
        tasks = [(a, _predict_block, (est, Xp[a : a + POOL_CHUNK], K)) for a in starts]
        res = run_tasks(tasks, bar=b)
    out = np.empty((len(Xp), K))
    for a in starts:
        out[a : a + POOL_CHUNK] = res.pop(a)
    return out, cls
