"""Choosing the default model from the data: out-of-fold weights for the ensemble.

The default pipeline (:func:`~dcai_jupyter.ops.out_of_sample_pred_probs` with
``model=None``) has three members, each giving out-of-sample probabilities:

- a leave-one-out k-nearest-neighbour vote (local structure, any shape of class);
- a logistic regression on standardised features (:func:`linear_task`): the model that
  wins on small data where the classes are nearly linearly separable;
- a Gaussian per class with shrunk covariances (:func:`quadratic_task`): classes of
  different spread or orientation, curved boundaries, for the cost of one covariance per
  class.

(A small gradient-boosting member was dropped: on the cases of ``benchmarks/label_issues.py``
it was the weakest member alone (mean F1 of the flags 0.04 below cleanlab on CV logistic
regression on the small cases and digits, where kNN alone was 0.04 above), it added under
0.01 F1 to the mix, and it took half the time on 20k x 20.)

:func:`choose_weights` picks the convex combination of the three (a grid of step 0.1 over
the simplex) whose most probable class agrees most often with the given labels out of
fold; among equally accurate mixes, the one with the lowest log-loss. The labels are mostly
right, and when the noise is spread over the classes the accuracy against them rises with
the accuracy against the true labels, so the mix chosen is the one that predicts the true
class best: on nearly linear data it leans on the linear model, elsewhere on the other
two. (Log-loss alone is a worse guide: it punishes a model for confidently contradicting
a wrong label, which is what finds label errors.)

scikit-learn is imported when first used.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product
from typing import Any

import numpy as np

__all__ = [
    "CHOICE_MAX_ROWS",
    "LR_MAX_TRAIN",
    "QDA_MAX_TRAIN",
    "WEIGHT_STEPS",
    "choose_weights",
    "combine",
    "given_label_log_loss",
    "linear_task",
    "quadratic_task",
]

#: the logistic regression of a fold is fit on at most this many training rows (a fixed
#: random subset): a linear model on standardised features has converged long before, and
#: the cost stays flat on large data
LR_MAX_TRAIN = 5000
#: the class covariances of the quadratic member are shrunk this far towards the identity
#: (features are standardised, so the identity is the natural prior): a class with fewer
#: rows than features in a fold still has an invertible covariance
QDA_SHRINKAGE = 0.1
#: the quadratic member of a fold is fit on at most this many training rows (a fixed
#: random subset): a Gaussian per class is well estimated long before
QDA_MAX_TRAIN = 5000
#: the weights are chosen on at most this many rows (a fixed random subset), so the cost
#: stays flat on large data. Not fewer: the accuracies of neighbouring mixes differ by a
#: few tenths of a percent, and on 5,000 rows the choice was seen to jump between passes
#: (20k x 20, 20 % noise: F1 0.75 -> 0.68)
CHOICE_MAX_ROWS = 20_000
#: weights are multiples of 1 / WEIGHT_STEPS
WEIGHT_STEPS = 10
#: probabilities are clipped here inside the log-loss
_LOG_FLOOR = 1e-6


def linear_task(
    Z: np.ndarray,
    codes: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    n_classes: int,
    seed: int | None,
) -> np.ndarray:
    """Fit ``LogisticRegression`` on standardised rows ``train``; probabilities of ``test``.

    Parameters
    ----------
    Z
        Standardised features (n, d).
    codes
        Class codes ``0..n_classes-1`` of every row.
    train, test
        Row indices.
    n_classes
        Columns of the result (a class missing from the fold gets probability 0).
    seed
        Seed of the training subset when ``train`` has more than ``LR_MAX_TRAIN`` rows.

    Returns
    -------
    np.ndarray of shape (len(test), n_classes)
    """
    from sklearn.linear_model import LogisticRegression

    from ._crossval import fit_predict_proba

    if len(train) > LR_MAX_TRAIN:
        rng = np.random.default_rng(0 if seed is None else seed)
        train = np.sort(rng.choice(train, LR_MAX_TRAIN, replace=False))
    single = _single_class(codes, train, test, n_classes)
    if single is not None:
        return single
    Zd = np.asarray(Z, dtype=np.float64)
    return fit_predict_proba(
        LogisticRegression(C=1.0, max_iter=500), Zd, codes, train, test, n_classes
    )


def quadratic_task(
    Z: np.ndarray,
    codes: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    n_classes: int,
    seed: int | None = None,
) -> np.ndarray:
    """Fit a Gaussian per class (shrunk covariance) on rows ``train``; probabilities of ``test``.

    ``QuadraticDiscriminantAnalysis(reg_param=QDA_SHRINKAGE)`` on the standardised features:
    a class of elongated or differently spread clusters, which a linear boundary cuts badly,
    at the cost of one covariance per class. Classes with fewer than two training rows are
    left out of the fit (probability 0).

    Parameters
    ----------
    Z, codes, train, test, n_classes, seed
        As in :func:`linear_task` (at most ``QDA_MAX_TRAIN`` training rows).

    Returns
    -------
    np.ndarray of shape (len(test), n_classes)
    """
    import warnings

    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis

    from ._crossval import fit_predict_proba

    if len(train) > QDA_MAX_TRAIN:
        rng = np.random.default_rng(0 if seed is None else seed)
        train = np.sort(rng.choice(train, QDA_MAX_TRAIN, replace=False))
    counts = np.bincount(codes[train], minlength=n_classes)
    train = train[counts[codes[train]] >= 2]
    single = _single_class(codes, train, test, n_classes)
    if single is not None:
        return single
    Zd = np.asarray(Z, dtype=np.float64)
    with warnings.catch_warnings():  # collinear features are what the shrinkage is for
        warnings.simplefilter("ignore", UserWarning)
        model = QuadraticDiscriminantAnalysis(reg_param=QDA_SHRINKAGE)
        try:
            return fit_predict_proba(model, Zd, codes, train, test, n_classes)
        except np.linalg.LinAlgError:
            # scikit-learn >= 1.9 refuses the svd solver when a class has no more rows than
            # features; the eigen solver shrinks its covariance towards a scaled identity
            # instead (the same regularisation, full rank whenever the class has any spread)
            pass
        model = QuadraticDiscriminantAnalysis(solver="eigen", shrinkage=QDA_SHRINKAGE)
        try:
            return fit_predict_proba(model, Zd, codes, train, test, n_classes)
        except np.linalg.LinAlgError:
            # a class with no spread at all (identical rows): a Gaussian says nothing
            # there, so this member answers with the training class frequencies
            prior = np.bincount(codes[train], minlength=n_classes) / len(train)
            return np.tile(prior, (len(test), 1))


def _single_class(
    codes: np.ndarray, train: np.ndarray, test: np.ndarray, n_classes: int
) -> np.ndarray | None:
    """Probabilities for a training set with fewer than two classes (else ``None``).

    A refining pass may leave a fold with one class (or none): its members then predict
    that class (or the uniform distribution) instead of failing.
    """
    present = np.unique(codes[train])
    if len(present) >= 2:
        return None
    out = np.full((len(test), n_classes), 1.0 / n_classes)
    if len(present) == 1:
        out[:] = 0.0
        out[:, int(present[0])] = 1.0
    return out


def given_label_log_loss(probs: np.ndarray, codes: np.ndarray) -> float:
    """Mean ``-log p(given label)`` (probabilities clipped at 1e-6)."""
    p = probs[np.arange(len(codes)), codes]
    return float(-np.mean(np.log(np.clip(p, _LOG_FLOOR, None))))


def _simplex(m: int, steps: int) -> np.ndarray:
    """All weight vectors of ``m`` non-negative multiples of 1/steps summing to 1."""
    rows = [w for w in product(range(steps + 1), repeat=m) if sum(w) == steps]
    return np.asarray(rows, dtype=np.float64) / steps


def choose_weights(
    candidates: Sequence[np.ndarray],
    codes: np.ndarray,
    *,
    steps: int = WEIGHT_STEPS,
    max_rows: int | None = CHOICE_MAX_ROWS,
    seed: int | None = 0,
) -> np.ndarray:
    """The convex weights of ``candidates`` whose argmax best agrees with the given labels.

    Parameters
    ----------
    candidates
        Out-of-sample probability matrices (n, K) of the same samples, one per model.
    codes
        The given labels as class codes.
    steps
        Weights are multiples of ``1 / steps``.
    max_rows, seed
        With more samples than ``max_rows``, the choice is made on a fixed random subset
        of that many (drawn with ``seed``); ``None``: on every sample.

    Returns
    -------
    np.ndarray of shape (len(candidates),)
        Non-negative, summing to 1: the highest out-of-fold accuracy against ``codes``;
        among equal accuracies the lowest log-loss (probabilities clipped at 1e-6); then
        the first in lexicographic order of the weights, so the choice is deterministic.
    """
    if len(candidates) == 1:
        return np.ones(1)
    grid = _simplex(len(candidates), steps)
    probs = np.stack([np.asarray(p, dtype=np.float64) for p in candidates])  # (m, n, K)
    codes = np.asarray(codes)
    if max_rows is not None and len(codes) > max_rows:
        rng = np.random.default_rng(0 if seed is None else seed)
        sub = np.sort(rng.choice(len(codes), max_rows, replace=False))
        probs, codes = probs[:, sub], codes[sub]
    n = len(codes)
    rows = np.arange(n)
    # the loss needs only p(given) of each mix: one small matrix product
    given = probs[:, rows, codes]  # (m, n)
    mixed_given = grid @ given  # (g, n)
    loss = -np.mean(np.log(np.clip(mixed_given, _LOG_FLOOR, None)), axis=1)
    # the accuracy needs each mix's argmax, but only where the members disagree: a row whose
    # given label every member ranks strictly first is right under every convex mix
    others = probs.copy()
    others[:, rows, codes] = -np.inf
    always = (given > others.max(axis=2)).all(axis=0)
    open_rows = ~always
    # float32 halves the time; a near-tie of two classes may go either way
    sub = probs[:, open_rows].astype(np.float32)
    sub_codes = codes[open_rows]
    w32 = grid.astype(np.float32)
    correct = np.full(len(grid), int(always.sum()), dtype=np.int64)
    step = max(1, 2_000_000 // max(1, sub[0].size))  # mixes in chunks of ~2 million values
    for start in range(0, len(grid), step):
        w = w32[start : start + step]
        mixed = w[:, 0, None, None] * sub[0]
        for j in range(1, len(sub)):
            mixed += w[:, j, None, None] * sub[j]
        correct[start : start + step] += (mixed.argmax(axis=2) == sub_codes).sum(axis=1)
    best = np.lexsort((np.arange(len(grid)), loss, -correct))[0]
    return grid[int(best)]


def combine(candidates: Sequence[np.ndarray], weights: Any) -> np.ndarray:
    """``sum_i weights[i] * candidates[i]`` (rows still sum to 1)."""
    w = np.asarray(weights, dtype=np.float64)
    out = np.zeros_like(np.asarray(candidates[0], dtype=np.float64))
    for wi, p in zip(w, candidates, strict=True):
        if wi:
            out += wi * np.asarray(p, dtype=np.float64)
    return out
