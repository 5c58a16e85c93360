"""Outliers: samples far from every other sample, flagged by a cut-off that needs no rate.

The score of a sample is how unusually far its ``k`` nearest neighbours are, in robust
standard deviations: the mean distance to the ``k`` nearest other samples, on a log
scale, minus its median over the dataset, divided by the scaled median absolute
deviation. It is measured in two views of the features and averaged:

- the scaled feature space (see :func:`~dcai_jupyter.ops._space.scale_columns`), where a
  sample far from the data's bulk in the informative columns stands out;
- the whitened principal components (each direction of variation at unit variance, at
  most 64 of them), where a sample off the directions the data varies along stands out
  even when its raw distances look ordinary.

Neighbours come from the neighbour service (:mod:`._neighbours`): up to ``EXACT_ROWS``
rows an exact search per view and pass (four in all); above it, or inside ``ds.audit()``,
ONE candidate graph of at least ``CANDIDATES`` neighbours per row in the scaled space
(approximate; in the audit its shared graph), from which every view and pass takes its
``k`` nearest by exact distance in its own space. The candidates hold the scaled space's
true neighbours but can miss some of the whitened view's, whose distances then run
large: there the typical distance is measured exactly on a sample of rows, and the
rows about to be flagged are searched again exactly.

A sample is flagged when its score is above ``threshold`` (4 robust standard deviations
by default). The views and the typical distance are fitted twice: on every sample, then
without those above the threshold, so that many outliers do not stretch the scales they
are measured in. The cut-off is in units of the data's own spread, so no contamination rate is
needed; on clean data it flags (almost) nothing.

:func:`outlier_scores` works on arrays; :class:`Outliers` is the recorded operation
behind ``ds.find_outliers()`` / ``ds.remove_outliers()``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ..core import Findings
from ._base import register
from ._mixed_rows import is_mixed_rows, robust_columns, unusual_columns
from ._neighbours import neighbour_graph, pair_distances, query
from ._removal import RemovalOperation
from ._space import as_float_matrix, dataset_matrix, scale_columns

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = ["OUTLIER_THRESHOLD", "Outliers", "find_outliers", "outlier_scores"]

#: flag samples whose score is above this many robust standard deviations
OUTLIER_THRESHOLD = 4.0
#: neighbours whose mean distance is the raw score
K = 10
#: the whitened view keeps at most this many principal components
MAX_DIMS = 64
#: up to this many columns (with ten times as many rows) the principal axes come from the
#: eigenvectors of the covariance matrix instead of an SVD of the rows
EIGH_MAX_DIMS = 1000
#: the candidate graph (large data, the audit) holds at least this many neighbours per row
CANDIDATES = 20
#: up to this many rows the views search exactly: four exact searches (two views, two
#: passes) cost about as much as one approximate graph with numba's compile at ~50k rows
#: (half the neighbour service's ``EXACT_MAX``, where one exact search breaks even)
EXACT_ROWS = 50_000
#: the approximate path measures each whitened view's typical distance exactly on a fixed
#: sample of this many rows (at 1M rows ~2 s), at most this share of them (a sample, not a
#: search of every row: the audit's graph is its one search)
TYPICAL_SAMPLE = 1000
TYPICAL_SHARE = 0.05
#: on a mixed table, a row with a number or date beyond the threshold on its own is
#: flagged from this share of the threshold of its neighbour score on (``_corroborated``)
CORROBORATE = 0.75
ROLES = {"score": "score", "flag": "is_outlier", "reason": "reason"}
#: the MAD of a normal distribution is this many standard deviations
_MAD_TO_SD = 1.4826


def _robust_z(values: np.ndarray, fit: np.ndarray, excess: float = 0.0) -> np.ndarray:
    """``values`` in robust standard deviations from the median of the ``fit`` rows, that
    median lowered by ``excess`` (how far an approximate view's values run above exact
    ones: :func:`_typical_excess`)."""
    ref = values[fit]
    med = float(np.median(ref))
    mad = float(np.median(np.abs(ref - med))) * _MAD_TO_SD
    if not mad > 0:
        spread = float(np.std(ref))
        mad = spread if spread > 0 else 1.0
    return (values - (med - excess)) / mad


def _whiten(Z: np.ndarray, fit: np.ndarray, random_state: int | None) -> np.ndarray | None:
    from threadpoolctl import threadpool_limits

    n, d = int(fit.sum()), Z.shape[1]
    k = min(d, n - 1, MAX_DIMS)
    if k < 1:
        return None
    with threadpool_limits(1):
        if n >= 10 * d and d <= EIGH_MAX_DIMS:
            # many more rows than columns: the eigenvectors of the d x d covariance are
            # the principal axes (what PCA's "covariance_eigh" solver does); at 1M x 20
            # ~0.3 s where the SVD of the rows takes ~6 s
            mean = Z[fit].mean(axis=0)
            C = Z[fit] - mean
            var, V = np.linalg.eigh(C.T @ C / max(n - 1, 1))
            var, V = var[::-1][:k], V[:, ::-1][:, :k]
            keep = var > 1e-3 * var[0] if len(var) and var[0] > 0 else np.zeros(0, bool)
            if not keep.any():
                return None
            return ((Z - mean) @ V[:, keep]) / np.sqrt(var[keep])
        from sklearn.decomposition import PCA

        solver = "full" if k == min(n, d) else "randomized"
        pca = PCA(n_components=k, svd_solver=solver, random_state=random_state).fit(Z[fit])
        var = pca.explained_variance_
        keep = var > 1e-3 * var[0] if len(var) and var[0] > 0 else np.zeros(0, dtype=bool)
        if not keep.any():
            return None
        return pca.transform(Z)[:, keep] / np.sqrt(var[keep])


def _log_knn(
    Z: np.ndarray,
    k: int,
    progress: bool,
    desc: str,
    candidates: np.ndarray | None,
    known: np.ndarray | None = None,
) -> np.ndarray:
    if known is not None:
        d = known[:, :k]  # the service's exact distances in this very space, ascending
    elif candidates is None:
        d, _ = neighbour_graph(Z, k, exact=True, progress=progress, desc=desc)
    else:
        # the k nearest of the candidates, by exact distances in this view
        d = pair_distances(Z, np.arange(len(Z)), candidates)
        d = np.partition(d, k - 1, axis=1)[:, :k] if d.shape[1] > k else d
    mean = d.mean(axis=1)
    floor = mean[mean > 0].min() if (mean > 0).any() else 1.0
    return np.log(np.maximum(mean, floor * 1e-3))


def _exactly(Z: np.ndarray, values: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """``values`` (log mean kNN distances) with those of ``rows`` measured by an exact
    search among every row of this view."""
    # a few hundred rows against every row: on every core (1M rows: ~3 s on one)
    d, _ = query(Z, rows, k, n_jobs=None)
    # the view's smallest mean distance (exp of its smallest log value); after _log_knn's
    # flooring at least 1e-3 of the smallest positive mean, so an exact mean of 0 (a row's
    # duplicates among its neighbours) or below the view's smallest is raised to it
    floor = float(np.exp(values.min()))
    out = values.copy()
    out[rows] = np.log(np.maximum(d.mean(axis=1), floor))
    return out


def _typical_excess(Z: np.ndarray, values: np.ndarray, fit: np.ndarray, k: int) -> float:
    """How far ``values`` (a view's log mean kNN distances from candidates) typically run
    above the exact ones: the median excess over a fixed sample of the fit rows (at most
    ``TYPICAL_SAMPLE``, ``TYPICAL_SHARE`` of them) searched exactly in this view (0 when
    the candidates hold their true neighbours)."""
    rows = np.flatnonzero(fit)
    m = max(1, min(TYPICAL_SAMPLE, int(TYPICAL_SHARE * len(rows))))
    rows = np.sort(np.random.default_rng(0).choice(rows, m, replace=False))
    exact = _exactly(Z, values, rows, k)[rows]
    return max(0.0, float(np.median(values[rows] - exact)))


def _views(
    M: np.ndarray,
    fit: np.ndarray,
    k: int,
    random_state: int | None,
    progress: bool,
    step: str,
    candidates: np.ndarray | None = None,
    known: np.ndarray | None = None,
    scaled: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """One pass's views fitted on the ``fit`` rows: ``(space, log mean kNN distance of
    every row)`` for the scaled space and, when it has a direction, the whitened one."""
    Z = scale_columns(M, fit) if scaled is None else scaled
    views = [(Z, _log_knn(Z, k, progress, f"outliers{step} (scaled)", candidates, known))]
    W = _whiten(Z, fit, random_state)
    if W is not None:
        views.append((W, _log_knn(W, k, progress, f"outliers{step} (whitened)", candidates)))
    return views


def _scores(
    views: list[tuple[np.ndarray, np.ndarray]],
    fit: np.ndarray,
    k: int,
    candidates: np.ndarray | None = None,
    verify: float | None = None,
) -> np.ndarray:
    """The scores of one pass from its ``views``; with ``candidates`` and ``verify``, the
    whitened view's typical distance measured exactly on a sample and the rows above
    ``verify`` measured again exactly there."""

    def combined(views: list[tuple[np.ndarray, np.ndarray]], excess: list[float]) -> np.ndarray:
        return np.mean(
            [_robust_z(v, fit, e) for (_, v), e in zip(views, excess, strict=True)], axis=0
        )

    if candidates is None or verify is None:
        return combined(views, [0.0] * len(views))
    # the candidates come from the scaled space (the graph's own, recall ~1 there); the
    # whitened view's true neighbours can lie outside them (a direction the scaled space
    # squeezes, e.g. a rare-category column: whitened to unit variance), which only makes
    # its distances larger: on a 60k mixed table 756 rows flagged instead of the exact
    # path's 126. (1) The typical distance is measured exactly on a sample: the rows'
    # excess shifts the view's median (100k numeric rows: 0.008 in log units; a 20k mixed
    # table 0.021: 16 rows flagged where the exact path flags 22, 21 with the shift). (2)
    # The rows about to be flagged are measured again by an exact search in the whitened
    # view (~800 rows at 1M: ~2 s), so a flag never rests on missing neighbours
    excess = [0.0] + [_typical_excess(V, v, fit, k) for V, v in views[1:]]
    score = combined(views, excess)
    suspects = np.flatnonzero(score > verify)
    if len(suspects) == 0 or len(views) == 1:
        return score
    exact = [views[0]] + [(V, _exactly(V, v, suspects, k)) for V, v in views[1:]]
    return combined(exact, excess)


def outlier_scores(
    X: Any,
    *,
    k: int = K,
    threshold: float = OUTLIER_THRESHOLD,
    random_state: int | None = 0,
    progress: bool = False,
    candidates: Any = None,
    exact: bool | None = None,
) -> np.ndarray:
    """The outlier score of each row of ``X`` (see the module docstring); higher = stranger.

    The scaling, the principal components and the typical distance are fitted on every
    row, then fitted again without the rows scoring above ``threshold`` (so that many
    outliers do not stretch the scales they are measured in), and every row is scored
    again.

    Parameters
    ----------
    X : array-like (n, d)
        Numeric features (encode other columns with
        :func:`~dcai_jupyter.ops.feature_matrix`).
    k : int
        Neighbours whose mean distance is measured (fewer on tiny data).
    threshold : float
        Rows above it in the first pass are left out of the second fit.
    random_state : int, optional
        Seed of the randomized principal components on wide data.
    progress : bool
        Show a progress bar on large data (the neighbour searches).
    candidates : array-like of int (n, K), optional
        Candidate neighbours of every row (row positions, never the row itself), e.g. the
        audit's shared graph: each view takes the ``k`` nearest of them by exact distance.
        Default: searched here (module docstring).
    exact : bool, optional
        ``True``: exact searches whatever the size; ``False``: one approximate candidate
        graph whatever the size; ``None``: exact up to ``EXACT_ROWS`` rows.

    Returns
    -------
    np.ndarray of float, shape (n,)
        Robust standard deviations above the typical neighbour distance (0 = typical).
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}")
    _check_threshold(threshold)
    M = as_float_matrix(X)
    n = M.shape[0]
    if n < 3:
        raise ValueError(
            f"outliers need at least 3 samples to compare (got {n}): there is no typical "
            "distance to measure against"
        )
    k = min(int(k), n - 1)
    every = np.ones(n, dtype=bool)
    scaled = scale_columns(M, every)  # the first pass's view, and the graph's space
    cand, known = _candidates(scaled, k, candidates, exact, random_state, progress)
    # the first pass's scaled view is the space the graph was built in: its distances
    views = _views(M, every, k, random_state, progress, "", cand, known, scaled)
    first = _scores(views, every, k)
    inliers = first <= float(threshold)
    if inliers.all() or inliers.sum() < max(3, n // 2):
        if cand is None or inliers.all():
            return first
        # no refit: the first pass's flags are verified in its own views
        return _scores(views, every, k, cand, verify=threshold)
    del views, scaled  # the refit builds its own (memory: two n x d views at 1M rows)
    # the first pass only decides which rows fit the second: its flags are verified there
    refit = _views(M, inliers, k, random_state, progress, ", refit", cand)
    return _scores(refit, inliers, k, cand, verify=threshold)


def _candidates(
    scaled: np.ndarray,
    k: int,
    candidates: Any,
    exact: bool | None,
    random_state: int | None,
    progress: bool,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The candidate graph the views read (``None``: exact searches per view), and when
    it was built here, its exact distances in ``scaled`` (ascending)."""
    n = scaled.shape[0]
    if candidates is not None:
        cand = np.asarray(candidates, dtype=np.int64)
        if cand.ndim != 2 or cand.shape[0] != n or cand.shape[1] < k:
            raise ValueError(
                f"candidates must have one row per sample and at least k={k} columns; "
                f"got shape {cand.shape}"
            )
        if ((cand < 0) | (cand >= n) | (cand == np.arange(n)[:, None])).any():
            raise ValueError("candidates must be positions of other rows (0 <= i < n, not self)")
        return cand, None
    if exact or (exact is None and n <= EXACT_ROWS):
        return None, None
    dist, cand = neighbour_graph(
        scaled,
        max(CANDIDATES, 2 * k),
        exact=False,
        random_state=random_state,
        progress=progress,
        desc="outliers",
    )
    return cand, dist


def find_outliers(
    X: Any,
    *,
    ids: Any = None,
    k: int = K,
    threshold: float = OUTLIER_THRESHOLD,
    random_state: int | None = 0,
    progress: bool = False,
    candidates: Any = None,
    exact: bool | None = None,
) -> pd.DataFrame:
    """Score and flag the outliers among the rows of ``X``.

    Parameters
    ----------
    X : array-like (n, d)
        Numeric features.
    ids : array-like, optional
        Sample ids (default 0..n-1).
    k, random_state, progress, candidates, exact
        As in :func:`outlier_scores`.
    threshold : float
        Flag rows whose score is above this (robust standard deviations).

    Returns
    -------
    pd.DataFrame indexed by sample id
        ``score``, ``is_outlier``, ``reason`` (``"neighbours 5.2 robust SD farther than
        typical"`` for flagged rows).
    """
    _check_threshold(threshold)
    score = outlier_scores(
        X,
        k=k,
        threshold=threshold,
        random_state=random_state,
        progress=progress,
        candidates=candidates,
        exact=exact,
    )
    idx = pd.Index(np.arange(len(score)) if ids is None else np.asarray(ids), name="sample_id")
    if len(idx) != len(score):
        raise ValueError(f"X has {len(score)} rows but ids has {len(idx)}")
    flag = score > float(threshold)
    reason = np.full(len(score), None, dtype=object)
    reason[flag] = [f"neighbours {s:.1f} robust SD farther than typical" for s in score[flag]]
    return pd.DataFrame({"score": score, "is_outlier": flag, "reason": reason}, index=idx)


def _corroborated(
    frame: pd.DataFrame, M: np.ndarray, how: list[str], threshold: float
) -> pd.DataFrame:
    """On a mixed table, a row with one extreme number needs less neighbour evidence.

    A mixed table has few usable columns, so a few dozen outliers form a sparse cloud of
    their own and their neighbour distances look less unusual than their values are
    (injected outliers scored 3.0-3.9 against the cut at 4). A number or date beyond
    ``threshold`` robust SD from its column's median (on the log scale where the column
    is skewed) is independent evidence: such a row's neighbour score counts
    ``1 / CORROBORATE`` times, so it is flagged from ``CORROBORATE * threshold`` on. The
    value alone does not flag a row: on real tables that flags the long tails of counts
    and prices by the hundred (stackoverflow 681 rows, email 223), where corroborated it
    adds 0-17 rows per table (benchmarks/README.md). Rare categories keep to the
    neighbour score.
    """
    numeric = [j for j, h in enumerate(how) if h != "rare value"]
    if not numeric:
        return frame
    extreme = np.abs(M[:, numeric]).max(axis=1) > threshold
    score = frame["score"].to_numpy(dtype=np.float64)
    boosted = np.where(extreme & (score > 0), score / CORROBORATE, score)
    new = (boosted > threshold) & ~(score > threshold)
    if not new.any():
        return frame
    out = frame.copy()
    out["score"] = boosted
    out["is_outlier"] = boosted > threshold
    reason = out["reason"].to_numpy(dtype=object).copy()
    reason[new] = [
        f"neighbours {v:.1f} robust SD farther than typical, with a value beyond {threshold:g}"
        for v in score[new]
    ]
    out["reason"] = pd.Series(reason, index=out.index, dtype=object)
    return out


def _check_threshold(threshold: Any) -> None:
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not np.isfinite(float(threshold))
    ):
        raise ValueError(
            f"threshold must be a number (robust standard deviations, default "
            f"{OUTLIER_THRESHOLD}); got {threshold!r}"
        )


@register
class Outliers(RemovalOperation):
    """Find samples far from all others; remove the flagged ones.

    ``find(ds)`` scores every sample (see the module docstring) and flags those above
    ``threshold``. ``apply(ds, findings, top=None)`` removes the flagged samples (the
    ``top`` highest-scoring ones) as one recorded change (op ``remove_outliers``).

    Parameters
    ----------
    threshold
        Flag samples whose score is above this many robust standard deviations.
    k
        Neighbours whose mean distance is measured.
    features
        Columns to use (default: the feature columns plus the text column; the image column
        when nothing else is usable).
    random_state
        Seed of the randomized principal components on wide data.
    progress
        Show a progress bar on large data.
    """

    name: ClassVar[str] = "outliers"
    change_op: ClassVar[str] = "remove_outliers"
    action: ClassVar[str] = "remove"

    def __init__(
        self,
        *,
        threshold: float = OUTLIER_THRESHOLD,
        k: int = K,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
        progress: bool = True,
    ) -> None:
        self.threshold = threshold
        self.k = k
        self.features = features
        self.random_state = random_state
        self.progress = progress

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the operations conformance test (tests/test_operations.py)."""
        rng = np.random.default_rng(0)
        X = np.vstack([rng.normal(size=(60, 3)), [[9.0, -9.0, 9.0], [-8.0, 8.0, 8.0]]])
        df = pd.DataFrame(X, columns=["a", "b", "c"])
        df["label"] = np.array(["x", "y"], dtype=object)[np.arange(len(df)) % 2]
        return [
            {
                "frame": df,
                "dataset": {"label": "label"},
                "operation": cls(random_state=0),
                "options": {"reason": "conformance"},
                "name": "default cut-off",
            },
            {
                "frame": df,
                "dataset": {"label": "label"},
                "operation": cls(threshold=3.0, k=5, features=["a", "b"], random_state=1),
                "options": {"top": 1},
                "name": "top 1 on two features",
            },
        ]

    def _mixed_columns(self, ds: Dataset) -> dict[str, np.ndarray] | None:
        """The numeric, categorical and date columns of a mixed table (else ``None``)."""
        roles = dict(getattr(ds, "roles", {}))
        cols = list(self.features) if self.features is not None else list(ds.feature_columns)
        if any(c not in ds.columns or c == ds.label for c in cols):
            return None  # dataset_matrix names the bad columns
        if not is_mixed_rows(roles, cols):
            return None
        use = [c for c in cols if roles.get(c) in ("numeric", "categorical", "datetime")]
        if not use:
            return None
        content = {c: np.asarray(ds.column(c)) for c in use}
        M, _, _ = robust_columns(content, roles)
        return content if M.shape[1] else None

    def _audit_graph(self, ds: Dataset) -> np.ndarray | None:
        """Inside ``ds.audit()``: the audit's one neighbour graph, as candidates."""
        from ._audit_context import active_context

        ctx = active_context()
        if ctx is None or not ctx.serves(ds, self.features, self.random_state):
            return None
        _, idx = ctx.graph
        return idx if idx.shape[1] >= min(int(self.k), len(ds) - 1) else None

    def _find(self, ds: Dataset) -> Findings:
        """Score every sample by how far it lies from the others; flag the outliers.

        Returns
        -------
        Findings
            By sample id: ``score`` (robust SDs above typical), ``is_outlier``, ``reason``.
            Recorded as an event; remove the flagged ones with :meth:`remove_outliers`.
        """
        _check_threshold(self.threshold)
        if len(ds) == 0:
            raise ValueError("the dataset is empty: there is nothing to compare")
        mixed = self._mixed_columns(ds)
        if mixed is not None:
            # a mixed table: per-column robust transforms, and the columns that make a row
            # unusual in its reason (see ._mixed_rows)
            M, used, how = robust_columns(mixed, dict(ds.roles))
        else:
            M, used = dataset_matrix(ds, self.features)
        frame = find_outliers(
            M,
            ids=np.asarray(ds.ids),
            k=self.k,
            threshold=float(self.threshold),
            random_state=self.random_state,
            progress=bool(self.progress),
            candidates=self._audit_graph(ds),
        )
        if mixed is not None:
            frame = _corroborated(frame, M, how, float(self.threshold))
            flagged = np.flatnonzero(frame["is_outlier"].to_numpy())
            why = unusual_columns(M, used, how, mixed, flagged)
            reasons = frame["reason"].to_numpy(dtype=object).copy()
            for p, w in zip(flagged.tolist(), why, strict=True):
                reasons[p] = f"{reasons[p]}; unusual: {w}" if w else reasons[p]
            frame["reason"] = pd.Series(reasons, index=frame.index, dtype=object)
        version = int(ds.version)
        frame.attrs.update({"version": version, "features": [str(c) for c in used]})
        return Findings(
            frame,
            op=self.name,
            roles=ROLES,
            action=self.action,
            params=self.json_params(),
            version=version,
        )
