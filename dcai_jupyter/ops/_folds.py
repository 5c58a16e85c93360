"""The folds of a cross-validation and the fit and prediction on one of them.

Shared by the cross-validation runner (:mod:`._crossval`), the ensemble's members
(:mod:`._model_choice`) and the operations that make their own tasks (pruning, active
learning). scikit-learn is imported when first used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["fit_predict_proba", "stratified_folds"]


def fit_predict_proba(
    model: Any, X: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray, n_classes: int
) -> np.ndarray:
    """Fit a clone of ``model`` on rows ``train`` and predict the probabilities of ``test``.

    Parameters
    ----------
    model
        A scikit-learn classifier with ``predict_proba`` (cloned; never fit in place).
    X, y
        Features and class codes ``0..n_classes-1`` of every row.
    train, test
        Row indices.
    n_classes
        Columns of the result: a class missing from a training fold gets probability 0.

    Returns
    -------
    np.ndarray of shape (len(test), n_classes)
    """
    from sklearn.base import clone

    est = clone(model).fit(X[train], y[train])
    p = np.asarray(est.predict_proba(X[test]), dtype=np.float64)
    out = np.zeros((len(test), n_classes))
    cols = np.asarray(getattr(est, "classes_", np.arange(p.shape[1])), dtype=np.int64)
    out[:, cols] = p
    return out


def stratified_folds(
    codes: np.ndarray, cv: int, random_state: int | None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``cv`` shuffled stratified ``(train, test)`` index pairs over the class codes ``codes``."""
    from sklearn.model_selection import StratifiedKFold

    skf = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    return list(skf.split(np.zeros(len(codes)), codes))
