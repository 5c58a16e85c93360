"""Choosing the default model from the data: out-of-fold weights for the ensemble.

The default pipeline (:func:`~dcai_jupyter.ops.out_of_sample_pred_probs` with
``model=None``) has three members, each giving out-of-sample probabilities:

- a leave-one-out k-nearest-neighbour vote (local structure, any shape of class);
- a logistic regression on standardised features (:func:`linear_task`): the model that
  wins on small data where the classes are nearly linearly separable;
- a Gaussian per class with shrunk covariances (:func:`quadratic_task`): classes of
  different spread or orientation, curved boundaries, for the cost of one covariance per
  class; or, where a class is made of several clusters, a mixture of such Gaussians per
  class (:func:`mixture_components` chooses the count per class by BIC,
  :func:`mixture_task` fits it per fold by a few EM steps). The runner keeps the mixture
  only when its out-of-fold predictions agree with the given labels significantly more
  often than the single Gaussian's.

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

from ._folds import fit_predict_proba

__all__ = [
    "CHOICE_MAX_ROWS",
    "LARGE_ROWS",
    "LR_LARGE_TRAIN",
    "LR_MAX_TRAIN",
    "MIXTURE_FOLD_ITER",
    "MIXTURE_LARGE_ROWS",
    "MIXTURE_MAX_COMPONENTS",
    "MIXTURE_MAX_ROWS",
    "MIXTURE_SELECT_ITER",
    "QDA_LARGE_TRAIN",
    "QDA_MAX_TRAIN",
    "WEIGHT_STEPS",
    "choose_weights",
    "combine",
    "given_label_log_loss",
    "linear_task",
    "mixture_components",
    "mixture_task",
    "quadratic_task",
    "sparse_linear_task",
    "tree_task",
]

#: the logistic regression of a fold is fit on at most this many training rows (a fixed
#: random subset): a linear model on standardised features has converged long before (on
#: 20 features and 5 classes, 25 rows per coefficient), and the cost stays flat on large
#: data (2,500 rather than 5,000: -0.25 s on 20k x 20, towards the mixture member's cost)
LR_MAX_TRAIN = 2500
#: the class covariances of the quadratic member are shrunk this far towards the identity
#: (features are standardised, so the identity is the natural prior): a class with fewer
#: rows than features in a fold still has an invertible covariance
QDA_SHRINKAGE = 0.1
#: the quadratic member of a fold is fit on at most this many training rows (a fixed
#: random subset): a Gaussian per class is well estimated long before
QDA_MAX_TRAIN = 5000
#: on more labeled rows than this, each member fits on the number of rows where its fit
#: stops improving (below, on fewer, as above: the time budget of small data sets). Measured
#: on 300k x 20 ``make_classification`` rows (10 informative, 5 classes of two clusters),
#: 10 % of the labels wrong, accuracy against the true labels of 100k other rows:
LARGE_ROWS = 100_000
#: ... the linear member: 2.5k rows 0.581, 5k 0.590, 10k 0.594, 20k-100k 0.593-0.594
LR_LARGE_TRAIN = 10_000
#: ... the quadratic member: 5k rows 0.788, 10k 0.796, 20k 0.798, 50k-100k 0.801
QDA_LARGE_TRAIN = 20_000
#: ... the mixture member, rows per class (more rows let BIC find the clusters): 1k 0.917,
#: 2k 0.932, 4k 0.946, 8k 0.947, 16k 0.947. On the whole pipeline at 200k rows the F1 of
#: the flags rose from 0.83 to 0.87 (the mixture's weight stayed 0.9-1)
MIXTURE_LARGE_ROWS = 4000
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
        Seed of the training subset when ``train`` has more than ``LR_MAX_TRAIN`` rows
        (``LR_LARGE_TRAIN`` when ``codes`` has more than ``LARGE_ROWS``).

    Returns
    -------
    np.ndarray of shape (len(test), n_classes)
    """
    from sklearn.linear_model import LogisticRegression

    train = _subsample(train, LR_LARGE_TRAIN if _large(codes) else LR_MAX_TRAIN, seed)
    single = _single_class(codes, train, test, n_classes)
    if single is not None:
        return single
    return _fit_predict_rows(
        LogisticRegression(C=1.0, max_iter=500), Z, codes, train, test, n_classes
    )


#: the linear member on a mixed table's sparse encoding is fit on at most this many rows
SPARSE_LR_MAX_TRAIN = 20_000
#: the gradient-boosting member on a mixed table (native categorical splits): few shallow
#: trees, with a leaf minimum, so that it does not learn the wrong labels. A tree costs
#: about 1 ms whatever the rows (scikit-learn's fixed cost per tree) and a multi-class fit
#: grows one per class and iteration: 40 trees of 15 leaves at rate 0.2 were 1,200 trees
#: and 1.5 of 2.6 CPU seconds on modeldata/tate_text (6 classes, 5 folds). 15 trees of 8
#: leaves at rate 0.4 (benchmarks/real_tables.py, nine tables): the member alone 3.3x
#: cheaper there, mean F1 0.620 -> 0.619 (10 % uniform noise) and 0.706 -> 0.700 (20 %
#: asymmetric), no table below the better reference. Early stopping on a tenth of the
#: fold's rows (5 rounds without gain, rate 0.3) scored the same on the nine tables but
#: stopped at random on small folds (500 rows, 3 folds: per-class F1 of the ensemble on
#: tate_text 0.746 instead of 0.77, tests/test_real_tables_ops.py)
TREE_PARAMS: dict[str, Any] = {
    "max_iter": 15,
    "learning_rate": 0.4,
    "max_leaf_nodes": 8,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
    "max_bins": 127,
    "early_stopping": False,
}
#: ... fit on at most this many rows per fold
TREE_MAX_TRAIN = 10_000


def sparse_linear_task(
    S: Any,
    codes: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    n_classes: int,
    seed: int | None,
) -> np.ndarray:
    """``LogisticRegression`` on a mixed table's sparse encoding (standardised numerics,
    one-hot categories, the full TF-IDF of each text column); probabilities of ``test``."""
    from sklearn.linear_model import LogisticRegression

    train = _subsample(train, SPARSE_LR_MAX_TRAIN, seed)
    single = _single_class(codes, train, test, n_classes)
    if single is not None:
        return single
    return fit_predict_proba(
        LogisticRegression(C=1.0, max_iter=1000), S, codes, train, test, n_classes
    )


def tree_task(
    data: tuple[np.ndarray, np.ndarray],
    codes: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    n_classes: int,
    seed: int | None,
) -> np.ndarray:
    """``HistGradientBoostingClassifier`` with native categorical splits on a mixed table's
    tree encoding ``data = (matrix, categorical mask)``; probabilities of ``test``.

    The trees model interactions between columns (a category that matters only within
    another) and route missing values, which the linear and distance-based members cannot.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    T, categorical = data
    train = _subsample(train, TREE_MAX_TRAIN, seed)
    single = _single_class(codes, train, test, n_classes)
    if single is not None:
        return single
    model = HistGradientBoostingClassifier(
        **TREE_PARAMS,
        categorical_features=np.asarray(categorical, dtype=bool) if np.any(categorical) else None,
        random_state=0 if seed is None else seed,
    )
    return fit_predict_proba(model, T, codes, train, test, n_classes)


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
        As in :func:`linear_task` (at most ``QDA_MAX_TRAIN`` training rows, ``QDA_LARGE_TRAIN``
        on more than ``LARGE_ROWS`` rows).

    Returns
    -------
    np.ndarray of shape (len(test), n_classes)
    """
    import warnings

    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis

    train = _subsample(train, QDA_LARGE_TRAIN if _large(codes) else QDA_MAX_TRAIN, seed)
    counts = np.bincount(codes[train], minlength=n_classes)
    train = train[counts[codes[train]] >= 2]
    single = _single_class(codes, train, test, n_classes)
    if single is not None:
        return single
    with warnings.catch_warnings():  # collinear features are what the shrinkage is for
        warnings.simplefilter("ignore", UserWarning)
        model = QuadraticDiscriminantAnalysis(reg_param=QDA_SHRINKAGE)
        try:
            return _fit_predict_rows(model, Z, codes, train, test, n_classes)
        except np.linalg.LinAlgError:
            # scikit-learn >= 1.9 refuses the svd solver when a class has no more rows than
            # features; the eigen solver shrinks its covariance towards a scaled identity
            # instead (the same regularisation, full rank whenever the class has any spread)
            pass
        model = QuadraticDiscriminantAnalysis(solver="eigen", shrinkage=QDA_SHRINKAGE)
        try:
            return _fit_predict_rows(model, Z, codes, train, test, n_classes)
        except np.linalg.LinAlgError:
            # a class with no spread at all (identical rows): a Gaussian says nothing
            # there, so this member answers with the training class frequencies
            prior = np.bincount(codes[train], minlength=n_classes) / len(train)
            return np.tile(prior, (len(test), 1))


#: a member predicts its test rows in blocks of this many (bounded temporaries)
PREDICT_CHUNK = 8192


def _fit_predict_rows(
    model: Any, Z: np.ndarray, codes: np.ndarray, train: np.ndarray, test: np.ndarray, K: int
) -> np.ndarray:
    """:func:`fit_predict_proba` on the float64 rows ``train`` of ``Z``, predicting ``test``
    in blocks of ``PREDICT_CHUNK`` rows: only the rows used are converted (not all of a
    float32 ``Z``, 160 MB at 1M x 20), and the model's temporaries stay small."""
    from sklearn.base import clone

    rows = np.asarray(train)
    Xtr = np.asarray(Z[rows], dtype=np.float64)
    est = clone(model).fit(Xtr, codes[rows])
    out = np.zeros((len(test), K))
    for s in range(0, len(test), PREDICT_CHUNK):
        block = np.asarray(Z[test[s : s + PREDICT_CHUNK]], dtype=np.float64)
        p = np.asarray(est.predict_proba(block), dtype=np.float64)
        cols = np.asarray(getattr(est, "classes_", np.arange(p.shape[1])), dtype=np.int64)
        out[s : s + len(block), cols] = p
    return out


def _subsample(rows: np.ndarray, cap: int, seed: int | None) -> np.ndarray:
    """``rows``, or ``cap`` of them drawn without replacement (sorted) when there are more."""
    if len(rows) <= cap:
        return rows
    rng = np.random.default_rng(0 if seed is None else seed)
    return np.sort(rng.choice(rows, cap, replace=False))


def _large(codes: np.ndarray) -> bool:
    """Whether the data set (``codes``: every labeled row) takes the large-data path."""
    return len(codes) > LARGE_ROWS


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
        sub = _subsample(np.arange(len(codes)), max_rows, seed)
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


# --- the Gaussian-mixture member (large data with multi-modal classes) -----------------

#: a class may be modelled by up to this many Gaussians (chosen per class by BIC); the cost
#: grows linearly with it
MIXTURE_MAX_COMPONENTS = 3
#: the number of components is chosen, and each fold's mixture fit, on at most this many
#: rows per class (a fixed random subset), so the cost stays flat on large data
MIXTURE_MAX_ROWS = 1000
#: EM iterations of the choice (from k-means on all rows of the class)
MIXTURE_SELECT_ITER = 10
#: EM iterations of each fold's fit, started from the chosen mixture in the first pass and
#: from the same fold's previous fit afterwards: after one EM step the parameters are
#: averages over the fold's training rows only, the start just decides which clusters the
#: components settle on
MIXTURE_FOLD_ITER = 3

#: one class's mixture: (weights (m,), means (m, d), covariances (m, d, d))
Mixture = tuple[np.ndarray, np.ndarray, np.ndarray]


def _mixture_params(m: int, d: int) -> int:
    """Free parameters of ``m`` full-covariance Gaussians in ``d`` dimensions."""
    return m * (d + d * (d + 1) // 2) + m - 1


def _component_logpdf(X: np.ndarray, mix: Mixture) -> np.ndarray:
    """``log w_j + log N(x | mu_j, S_j)`` of every row and component, shape (n, m)."""
    from scipy.linalg import solve_triangular

    w, mu, cov = mix
    n, d = X.shape
    out = np.empty((n, len(w)))
    for j in range(len(w)):
        chol = np.linalg.cholesky(cov[j])
        # the inverse factor once (d x d), then one matrix product over the rows: much
        # cheaper than a triangular solve with n right-hand sides
        inv = solve_triangular(chol, np.eye(d), lower=True, check_finite=False)
        # the row products in the precision of X (float32: half the time; a squared
        # distance of order d loses nothing that matters to a class probability)
        sol = (X - mu[j].astype(X.dtype)) @ inv.T.astype(X.dtype)
        out[:, j] = (
            np.log(max(w[j], 1e-300))
            - 0.5 * np.einsum("ij,ij->i", sol, sol)
            - np.log(np.diag(chol)).sum()
            - 0.5 * d * np.log(2 * np.pi)
        )
    return out


def _whitening(mix: Mixture) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per component ``j``: ``A_j`` (d, d) and ``b_j`` (d,) with ``|x A_j - b_j|^2`` the
    Mahalanobis distance to its mean, side by side as ``A`` (d, d * m) and ``b`` (d * m,),
    and the constant ``log w_j - log det L_j - d/2 log 2 pi`` of each (m,)."""
    from scipy.linalg import solve_triangular

    w, mu, cov = mix
    d = mu.shape[1]
    A, b, const = [], [], []
    for j in range(len(w)):
        chol = np.linalg.cholesky(cov[j])
        inv_t = solve_triangular(chol, np.eye(d), lower=True, check_finite=False).T
        A.append(inv_t)
        b.append(mu[j] @ inv_t)
        const.append(
            np.log(max(w[j], 1e-300)) - np.log(np.diag(chol)).sum() - 0.5 * d * np.log(2 * np.pi)
        )
    return np.hstack(A), np.concatenate(b), np.asarray(const)


def _mixtures_logp(
    X: np.ndarray,
    rows: np.ndarray,
    factors: Sequence[tuple[int, np.ndarray, np.ndarray, np.ndarray]],
    n_classes: int,
) -> np.ndarray:
    """``log p(x, class)`` of ``X[rows]`` under each class's mixture (``-inf`` for a class
    without one), from :func:`_whitening`'s factors ``(class, A, b, constant + log prior)``.

    Every component of every class in one matrix product per block of ``PREDICT_CHUNK``
    rows, in the precision of ``X`` (float32: half the time; a squared distance of order d
    loses nothing that matters to a class probability).
    """
    out = np.full((len(rows), n_classes), -np.inf)
    if not factors:
        return out
    d = X.shape[1]
    A = np.hstack([f[1] for f in factors]).astype(X.dtype)
    b = np.concatenate([f[2] for f in factors]).astype(X.dtype)
    const = np.concatenate([f[3] for f in factors])
    sizes = [len(f[3]) for f in factors]
    ends = np.cumsum(sizes)
    # sums each component's d squared coordinates: one more (small) matrix product
    group = np.kron(np.eye(len(const), dtype=X.dtype), np.ones((d, 1), dtype=X.dtype))
    for a in range(0, len(rows), PREDICT_CHUNK):
        block = X[rows[a : a + PREDICT_CHUNK]] @ A
        block -= b
        block *= block
        lp = const - 0.5 * (block @ group)
        for (c, *_), e, m in zip(factors, ends, sizes, strict=True):
            out[a : a + len(block), c] = _logsumexp(lp[:, e - m : e])
    return out


def _logsumexp(a: np.ndarray) -> np.ndarray:
    top = a.max(axis=1)
    return top + np.log(np.exp(a - top[:, None]).sum(axis=1))


def _m_step(X: np.ndarray, resp: np.ndarray) -> Mixture:
    """Weights, means and covariances (shrunk by ``QDA_SHRINKAGE`` towards the identity, as
    in the quadratic member) from responsibilities ``resp`` (n, m)."""
    resp = resp.astype(X.dtype, copy=False)
    nk = resp.sum(axis=0, dtype=np.float64) + 1e-10
    mu = (resp.T @ X).astype(np.float64) / nk[:, None]
    d = X.shape[1]
    cov = np.empty((len(nk), d, d))
    for j in range(len(nk)):
        diff = X - mu[j].astype(X.dtype)
        s = ((resp[:, j, None] * diff).T @ diff).astype(np.float64) / nk[j]
        cov[j] = (1.0 - QDA_SHRINKAGE) * s + QDA_SHRINKAGE * np.eye(d)
    return nk / nk.sum(), mu, cov


def _em(X: np.ndarray, mix: Mixture, n_iter: int) -> Mixture:
    """``n_iter`` EM steps from ``mix``."""
    for _ in range(n_iter):
        lp = _component_logpdf(X, mix)
        resp = np.exp(lp - _logsumexp(lp)[:, None])
        mix = _m_step(X, resp)
    return mix


def _log_likelihood(X: np.ndarray, mix: Mixture) -> float:
    """Total log-likelihood of the rows ``X`` under ``mix``."""
    return float(_logsumexp(_component_logpdf(X, mix).astype(np.float64)).sum())


def _kmeans_start(X: np.ndarray, m: int, seed: int) -> Mixture:
    """A mixture of ``m`` components started from k-means (one Gaussian: the sample's)."""
    if m == 1:
        return _m_step(X, np.ones((len(X), 1)))
    from sklearn.cluster import KMeans

    labels = KMeans(n_clusters=m, n_init=1, random_state=seed).fit_predict(X)
    return _m_step(X, np.eye(m)[labels])


def _class_rows(codes: np.ndarray, rows: np.ndarray, c: int, seed: int) -> np.ndarray:
    cap = MIXTURE_LARGE_ROWS if _large(codes) else MIXTURE_MAX_ROWS
    return _subsample(rows[codes[rows] == c], cap, seed)


def mixture_components(
    Z: np.ndarray, codes: np.ndarray, n_classes: int, seed: int | None = 0
) -> tuple[np.ndarray, list[Mixture | None]]:
    """The number of Gaussians for each class, chosen by BIC (1 to ``MIXTURE_MAX_COMPONENTS``).

    A class drawn from several clusters (``make_classification``'s default, or any class
    that gathers sub-types) is badly served by one Gaussian: the quadratic member then
    confuses its clusters with the neighbouring classes, and so flags correct labels. The
    Bayesian information criterion (log-likelihood penalised by ``log n / 2`` per free
    parameter) asks for more components only where the class's rows support them: a count
    is considered only when the class has more rows than the mixture has parameters (so on
    small or high-dimensional data every class keeps one Gaussian). Chosen once on all rows
    (at most ``MIXTURE_MAX_ROWS`` per class, ``MIXTURE_LARGE_ROWS`` on more than
    ``LARGE_ROWS`` rows): a hyperparameter, like the folds' other
    settings; the mixtures themselves are fit per fold.

    Returns
    -------
    components : np.ndarray of shape (n_classes,)
        Components per class (1 for a class with fewer than two rows).
    fits : list
        The chosen mixture of each class (``None`` where none was fit): the start of the
        folds' fits.
    """
    s = 0 if seed is None else seed
    Zd = np.asarray(Z, dtype=np.float32)
    d = Zd.shape[1]
    rows = np.arange(len(codes))
    out = np.ones(n_classes, dtype=np.int64)
    fits: list[Mixture | None] = [None] * n_classes
    for c in range(n_classes):
        r = _class_rows(codes, rows, c, s)
        best = np.inf
        for m in range(1, MIXTURE_MAX_COMPONENTS + 1):
            p = _mixture_params(m, d)
            if len(r) <= max(p, m):
                break
            try:
                mix = _em(Zd[r], _kmeans_start(Zd[r], m, s), MIXTURE_SELECT_ITER if m > 1 else 0)
                ll = _log_likelihood(Zd[r], mix)
            except np.linalg.LinAlgError:
                break
            bic = -2.0 * ll + p * np.log(len(r))
            if bic < best:
                best, out[c], fits[c] = bic, m, mix
    return out, fits


def mixture_task(
    Z: np.ndarray,
    codes: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    n_classes: int,
    components: np.ndarray,
    start: list[Mixture | None] | None = None,
    seed: int | None = 0,
) -> tuple[np.ndarray, list[Mixture | None]]:
    """A Gaussian mixture per class fit on rows ``train``; probabilities of ``test``.

    Class ``c`` is a mixture of ``components[c]`` Gaussians (covariances shrunk as in
    :func:`quadratic_task`) fit by EM on its training rows (at most ``MIXTURE_MAX_ROWS``, or ``MIXTURE_LARGE_ROWS``),
    started from ``start[c]`` (the chosen mixture, or the same fold's fit in the previous
    pass) or else from k-means; the class prior is its share of ``train``. Classes with fewer training rows
    than components (or than two) get probability 0.

    Returns
    -------
    probs : np.ndarray of shape (len(test), n_classes)
    fits : list
        Each class's fitted mixture (``None`` where not fit), to start the next pass from.
    """
    s = 0 if seed is None else seed
    Zd = np.asarray(Z, dtype=np.float32)
    fits: list[Mixture | None] = [None] * n_classes
    factors: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    counts = np.bincount(codes[train], minlength=n_classes)
    for c in range(n_classes):
        m = int(components[c])
        if counts[c] < max(2, m):
            continue
        r = _class_rows(codes, train, c, s)
        init = start[c] if start is not None else None
        if init is not None and len(init[0]) != m:
            init = None
        try:
            mix0 = init if init is not None else _kmeans_start(Zd[r], m, s)
            mix = _em(Zd[r], mix0, MIXTURE_FOLD_ITER if m > 1 else 0)
            A, b, const = _whitening(mix)
        except np.linalg.LinAlgError:
            continue
        factors.append((c, A, b, const + np.log(counts[c] / len(train))))
        fits[c] = mix
    logp = _mixtures_logp(Zd, test, factors, n_classes)
    if not np.isfinite(logp).any(axis=1).all():
        return np.full((len(test), n_classes), 1.0 / n_classes), fits
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(axis=1, keepdims=True), fits
