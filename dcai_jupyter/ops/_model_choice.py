"""Choosing the default model from the data: out-of-fold log-loss weights for the ensemble.

The default pipeline (:func:`~dcai_jupyter.ops.out_of_sample_pred_probs` with
``model=None``) has three members, each giving out-of-sample probabilities:

- a leave-one-out k-nearest-neighbour vote (local structure, any shape of class);
- a small histogram gradient-boosting model (interactions, mixed feature scales);
- a logistic regression on standardised features (:func:`linear_task`): the model that
  wins on small data where the classes are nearly linearly separable.

:func:`choose_weights` picks the convex combination of the three with the lowest log-loss
against the given labels (a grid of step 0.1 over the simplex). The labels are mostly
right, so the mix that predicts them best out of fold is the one that predicts the true
class best; on nearly linear data it leans on the linear model, elsewhere on the other two.

scikit-learn is imported when first used.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product
from typing import Any

import numpy as np

__all__ = [
    "LR_MAX_TRAIN",
    "WEIGHT_STEPS",
    "choose_weights",
    "combine",
    "given_label_log_loss",
    "linear_task",
]

#: the logistic regression of a fold is fit on at most this many training rows (a fixed
#: random subset): a linear model on standardised features has converged long before, and
#: the cost stays flat on large data
LR_MAX_TRAIN = 5000
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
    Zd = np.asarray(Z, dtype=np.float64)
    return fit_predict_proba(
        LogisticRegression(C=1.0, max_iter=500), Zd, codes, train, test, n_classes
    )


def given_label_log_loss(probs: np.ndarray, codes: np.ndarray) -> float:
    """Mean ``-log p(given label)`` (probabilities clipped at 1e-6)."""
    p = probs[np.arange(len(codes)), codes]
    return float(-np.mean(np.log(np.clip(p, _LOG_FLOOR, None))))


def _simplex(m: int, steps: int) -> np.ndarray:
    """All weight vectors of ``m`` non-negative multiples of 1/steps summing to 1."""
    rows = [w for w in product(range(steps + 1), repeat=m) if sum(w) == steps]
    return np.asarray(rows, dtype=np.float64) / steps


def choose_weights(
    candidates: Sequence[np.ndarray], codes: np.ndarray, *, steps: int = WEIGHT_STEPS
) -> np.ndarray:
    """The convex weights of ``candidates`` with the lowest log-loss on the given labels.

    Parameters
    ----------
    candidates
        Out-of-sample probability matrices (n, K) of the same samples, one per model.
    codes
        The given labels as class codes.
    steps
        Weights are multiples of ``1 / steps``.

    Returns
    -------
    np.ndarray of shape (len(candidates),)
        Non-negative, summing to 1. Ties (equal log-loss) go to the first such vector in
        lexicographic order of the weights, so the choice is deterministic.
    """
    if len(candidates) == 1:
        return np.ones(1)
    rows = np.arange(len(codes))
    given = np.stack([np.asarray(p)[rows, codes] for p in candidates])  # (m, n)
    grid = _simplex(len(candidates), steps)
    mixed = np.clip(grid @ given, _LOG_FLOOR, None)  # (g, n)
    loss = -np.log(mixed).mean(axis=1)
    return grid[int(np.argmin(loss))]


def combine(candidates: Sequence[np.ndarray], weights: Any) -> np.ndarray:
    """``sum_i weights[i] * candidates[i]`` (rows still sum to 1)."""
    w = np.asarray(weights, dtype=np.float64)
    out = np.zeros_like(np.asarray(candidates[0], dtype=np.float64))
    for wi, p in zip(w, candidates, strict=True):
        if wi:
            out += wi * np.asarray(p, dtype=np.float64)
    return out
