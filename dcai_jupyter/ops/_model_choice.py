"""Choosing the default model from the data: out-of-fold weights for the ensemble.

The default pipeline (:func:`~dcai_jupyter.ops.out_of_sample_pred_probs` with
``model=None``) has three members, each giving out-of-sample probabilities:

- a leave-one-out k-nearest-neighbour vote (local structure, any shape of class);
- a small histogram gradient-boosting model (interactions, mixed feature scales);
- a logistic regression on standardised features (:func:`linear_task`): the model that
  wins on small data where the classes are nearly linearly separable.

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
    """The convex weights of ``candidates`` whose argmax best agrees with the given labels.

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
        Non-negative, summing to 1: the highest out-of-fold accuracy against ``codes``;
        among equal accuracies the lowest log-loss (probabilities clipped at 1e-6); then
        the first in lexicographic order of the weights, so the choice is deterministic.
    """
    if len(candidates) == 1:
        return np.ones(1)
    grid = _simplex(len(candidates), steps)
    probs = [np.asarray(p, dtype=np.float64) for p in candidates]
    correct = np.empty(len(grid), dtype=np.int64)
    loss = np.empty(len(grid))
    for g, w in enumerate(grid):
        mixed = combine(probs, w)
        correct[g] = int((mixed.argmax(axis=1) == codes).sum())
        loss[g] = given_label_log_loss(mixed, codes)
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
