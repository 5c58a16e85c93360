"""Add data by active learning: which unlabeled pool rows a person should label next.

Query strategies are pure array functions (nothing is fit or changed here):

- :func:`least_confidence`, :func:`margin`, :func:`entropy`: per-row uncertainty scores
  from predicted class probabilities, higher = more worth a label;
- :func:`select_samples`: pick ``k`` rows of a pool with one of :data:`STRATEGIES`:
  ``random``, ``least_confidence``, ``margin``, ``entropy``, ``diverse`` (a shortlist of
  the most uncertain rows by margin, clustered with k-means so one batch covers ``k``
  different regions instead of ``k`` copies of one confusion; the most uncertain row of
  each cluster is picked) and ``auto``, the default. ``auto`` is ``diverse`` today: over
  seeds 0-9 of ``benchmarks/active_learning.py`` it matched or beat margin sampling where
  uncertainty helps (digits) and beat random where plain uncertainty sampling does not
  (a 5-class synthetic set), so one default fits both regimes. The shortlist of
  ``10 * k`` rows was the best of 3, 5, 10 and 20 on both cases. ``auto`` stays the name
  to use: it follows the benchmark if a better rule is found.

:class:`SuggestSamples` is the ``Operation``: it fits a model on the labeled rows of a
dataset, predicts the pool (rows whose label is missing) and returns
:class:`~dcai_jupyter.core.Findings` with action ``"label"`` (a person picks a class).
It records a ``find_suggest_samples`` event; the labels a person gives are ordinary
``ds.relabel`` changes. ``focus="weakest"`` weights the pool by how weak the model is on
the class each row probably belongs to (per-class cross-validated F1).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ..core import Findings
from ._base import Operation, register
from ._pool_model import _check_model, default_model, pool_predictions, pool_steps

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = [
    "STRATEGIES",
    "SuggestSamples",
    "entropy",
    "least_confidence",
    "margin",
    "select_samples",
    "weakest_class_scores",
]

#: the query strategies :func:`select_samples` knows
STRATEGIES = ("auto", "random", "least_confidence", "margin", "entropy", "diverse")
#: ``diverse``: the shortlist holds this many candidates per requested sample
SHORTLIST_FACTOR = 10
#: the Findings roles of a suggestion (see ``dcai_jupyter.core.Findings``); the model's guess
#: is the ``suggestion`` a person may accept (Enter in the LabelEditor) or overrule with a
#: class; rows picked with ``strategy="random"`` have none (no model was fit)
ROLES = {
    "score": "score",
    "flag": "suggested",
    "suggestion": "predicted_label",
    "reason": "reason",
}
#: the frame's columns, in order
COLUMNS = ["rank", "score", "predicted_label", "confidence", "suggested", "reason"]


# ---------------------------------------------------------------------- uncertainty scores
def _check_probs(probs: Any) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(
            f"probs must be a 2-D array (n_samples, n_classes) of probabilities; got shape {p.shape}"
        )
    if not np.isfinite(p).all():
        raise ValueError("probs holds NaN or infinite values; pass predicted probabilities")
    return p


def least_confidence(probs: Any) -> np.ndarray:
    """``1 - max_c p(c|x)`` per row: high when even the best class is unlikely.

    Parameters
    ----------
    probs : array of shape (n, K)
        Predicted class probabilities (rows sum to 1).

    Returns
    -------
    np.ndarray of shape (n,)
        Scores in ``[0, 1 - 1/K]``; higher = more worth a label.
    """
    p = _check_probs(probs)
    return 1.0 - p.max(axis=1)


def margin(probs: Any) -> np.ndarray:
    """``1 - (p_best - p_second)`` per row: high when the two likeliest classes are close.

    Parameters
    ----------
    probs : array of shape (n, K)
        Predicted class probabilities.

    Returns
    -------
    np.ndarray of shape (n,)
        Scores in ``[0, 1]``; 1 = a tie between the two likeliest classes. With one
        class (K = 1) every score is 0.
    """
    p = _check_probs(probs)
    if p.shape[1] < 2:
        return np.zeros(len(p))
    top2 = -np.partition(-p, 1, axis=1)[:, :2]
    return 1.0 - (top2[:, 0] - top2[:, 1])


def entropy(probs: Any) -> np.ndarray:
    """Normalised Shannon entropy ``-sum p log p / log K`` per row, in ``[0, 1]``.

    Parameters
    ----------
    probs : array of shape (n, K)
        Predicted class probabilities.

    Returns
    -------
    np.ndarray of shape (n,)
        1 = every class equally likely; 0 = certain (or K = 1).
    """
    p = _check_probs(probs)
    if p.shape[1] < 2:
        return np.zeros(len(p))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return np.clip(-terms.sum(axis=1) / np.log(p.shape[1]), 0.0, 1.0)


_UNCERTAINTY = {"least_confidence": least_confidence, "margin": margin, "entropy": entropy}


# ---------------------------------------------------------------------- selection
def _check_k(k: Any, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or int(k) < 1:
        raise ValueError(f"k must be a positive whole number of samples; got {k!r}")
    if n == 0:
        raise ValueError(
            "the pool is empty: there is no unlabeled row to suggest. Add rows without a "
            "label with ds.add(rows) to form a pool"
        )
    if int(k) > n:
        raise ValueError(f"k={k} is more than the {n} row(s) in the pool; ask for at most k={n}")
    return int(k)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first, ties by position (deterministic).

    A partition finds them (linear time), and only those ``k`` are sorted: on a 1M-row pool
    the same rows as sorting every score, several times faster.
    """
    n = len(scores)
    if 0 < k < n:
        kth = np.partition(scores, n - k)[n - k]  # the k-th highest score
        above = np.flatnonzero(scores > kth)
        ties = np.flatnonzero(scores == kth)[: k - len(above)]
        cand = np.concatenate([above, ties])
    else:
        cand = np.arange(n)
    order = np.lexsort((cand, -scores[cand]))
    return cand[order][:k]


def _standardized(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        X = X.reshape(len(X), -1)
    finite = np.isfinite(X)
    if not finite.all():
        med = np.nanmedian(np.where(finite, X, np.nan), axis=0)
        X = np.where(finite, X, np.nan_to_num(med)[None, :])
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    return (X - X.mean(axis=0)) / sd


def _diverse(
    scores: np.ndarray, X: np.ndarray, k: int, m: int, random_state: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """k-means over the ``m`` highest-scoring rows; the best row of each cluster.

    Returns the picked indices (best first) and their cluster numbers.
    """
    short = _top(scores, m)
    if k == m:
        return short, np.arange(k)
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    Z = _standardized(X[short])
    with threadpool_limits(1), warnings.catch_warnings():
        # fewer distinct rows than k: the empty clusters are filled by score below
        warnings.simplefilter("ignore", ConvergenceWarning)
        km = KMeans(n_clusters=k, n_init=3, random_state=random_state).fit(Z)
    lab = km.labels_
    picks: list[int] = []
    clusters: list[int] = []
    for c in range(k):
        members = np.flatnonzero(lab == c)
        if len(members):
            best = members[np.argmax(scores[short[members]])]  # first of equals (shortlist order)
            picks.append(int(best))
            clusters.append(c)
    if len(picks) < k:  # identical rows collapse clusters: fill by score
        taken = set(picks)
        rest = [i for i in range(m) if i not in taken]
        for i in rest[: k - len(picks)]:
            picks.append(i)
            clusters.append(-1)
    arr = np.asarray(picks, dtype=np.int64)
    order = np.lexsort((arr, -scores[short[arr]]))
    return short[arr[order]], np.asarray(clusters)[order]


def select_samples(
    probs: Any,
    k: int,
    *,
    strategy: str = "auto",
    X: Any = None,
    weights: Any = None,
    random_state: int | None = 0,
    classes: Sequence[Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Pick ``k`` pool rows to label next.

    Parameters
    ----------
    probs : array of shape (n, K)
        Predicted class probabilities of the pool rows (ignored by ``random``; may be
        ``None`` then).
    k : int
        How many rows to pick (``1 <= k <= n``).
    strategy : str
        One of :data:`STRATEGIES`. ``diverse``: the ``10 * k`` rows with the highest margin
        score, clustered into ``k`` groups by k-means on standardised ``X``; the most
        uncertain row of each group. ``auto``: the default, today ``diverse`` (see the
        module docstring).
    X : array of shape (n, d), optional
        Pool features; needed by ``diverse`` and ``auto``.
    weights : array of shape (n,), optional
        Multiplies the uncertainty scores (``focus="weakest"`` passes how weak the model
        is where each row probably belongs).
    random_state : int, optional
        Seed of ``random`` and of k-means: the same seed, the same picks.
    classes : sequence, optional
        The class of each ``probs`` column, to name them in the reasons.

    Returns
    -------
    picks : np.ndarray of int
        Row indices into the pool, best first, no repeats.
    scores : np.ndarray of float
        The strategy's score of each pick (higher = more worth a label).
    reasons : list of str
        Why each row was picked, in words.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}; got {strategy!r}")
    if strategy == "random":
        n = len(probs) if probs is not None else (len(X) if X is not None else 0)
        k = _check_k(k, n)
        rng = np.random.default_rng(random_state)
        draw = rng.random(n)
        picks = _top(draw, k)
        return picks, draw[picks], [f"random pick (random_state={random_state})"] * k
    p = _check_probs(probs)
    n = len(p)
    k = _check_k(k, n)
    kind = "margin" if strategy in ("auto", "diverse") else strategy
    scores = _UNCERTAINTY[kind](p)
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (n,):
            raise ValueError(f"weights must have one value per pool row ({n}); got shape {w.shape}")
        scores = scores * w
    if strategy in ("least_confidence", "margin", "entropy"):
        picks = _top(scores, k)
        return picks, scores[picks], _uncertainty_reasons(p, picks, kind, classes)
    if X is None:
        raise ValueError(f"strategy {strategy!r} needs the pool's features X to spread the batch")
    Xa = np.asarray(X, dtype=np.float64)
    if len(Xa) != n:
        raise ValueError(f"X has {len(Xa)} rows but probs has {n}")
    m = min(n, max(k, SHORTLIST_FACTOR * k))
    picks, clusters = _diverse(scores, Xa, k, m, random_state)
    out = []
    for r, c in zip(_uncertainty_reasons(p, picks, kind, classes), clusters, strict=True):
        where = (
            f"; most uncertain of cluster {c + 1} of {k} among the {m} most uncertain rows"
            if c >= 0
            else f"; among the {m} most uncertain rows"
        )
        out.append(r + where)
    return picks, scores[picks], out


def _uncertainty_reasons(
    p: np.ndarray, rows: np.ndarray, kind: str, classes: Sequence[Any] | None
) -> list[str]:
    """Per picked row: the model's two likeliest classes and their probabilities."""

    def name(j: int) -> str:
        return repr(classes[j]) if classes is not None else f"class {j}"

    K = p.shape[1]
    out = []
    for i in rows.tolist():
        order = np.argsort(-p[i], kind="stable")
        a = int(order[0])
        if K < 2:
            out.append(f"{kind}: the model knows one class only ({name(a)})")
            continue
        b = int(order[1])
        out.append(f"{kind}: torn between {name(a)} ({p[i, a]:.2f}) and {name(b)} ({p[i, b]:.2f})")
    return out


def weakest_class_scores(
    X_lab: Any,
    y_lab: Any,
    *,
    classes: Sequence[Any],
    model: Any = None,
    random_state: int | None = 0,
    progress: bool = True,
) -> np.ndarray:
    """Per-class cross-validated F1 of ``model`` on the labeled rows (0 for a class with
    fewer than 2 labeled rows, which cross-validation cannot score).

    Returns
    -------
    np.ndarray of shape (len(classes),)
    """
    from ._crossval import out_of_sample_pred_probs
    from ._validation import encode_labels

    codes, cls = encode_labels(y_lab, classes)
    counts = np.bincount(codes, minlength=len(cls))
    ok = counts >= 2
    f1 = np.zeros(len(cls))
    if ok.sum() < 2:
        return f1
    rows = ok[codes]
    cv = int(min(5, counts[ok].min()))
    sub = [cls[j] for j in np.flatnonzero(ok)]
    if model is None:
        model = default_model(int(rows.sum() * (cv - 1) / cv), random_state=random_state)
    probs = out_of_sample_pred_probs(
        np.asarray(X_lab, dtype=np.float64)[rows],
        [cls[c] for c in codes[rows]],
        model=model,
        cv=cv,
        random_state=random_state,
        progress=progress,
        classes=sub,
        desc="suggest: F1 per class",
    )
    from sklearn.metrics import f1_score

    y = pd.Index(sub).get_indexer([cls[c] for c in codes[rows]])
    per = f1_score(
        y, probs.argmax(axis=1), labels=np.arange(len(sub)), average=None, zero_division=0
    )
    f1[np.flatnonzero(ok)] = per
    return f1


# ---------------------------------------------------------------------- the operation
def _labeled_mask(ds: Dataset) -> np.ndarray:
    labels = pd.Series(np.asarray(ds.column(ds.label), dtype=object), dtype=object)
    return ~pd.isna(labels).to_numpy()


def pool_blobs() -> pd.DataFrame:
    """Conformance data of the pool operations: 80 rows of three blobs, every third row in
    the unlabeled pool (label missing)."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=80, centers=3, n_features=3, cluster_std=0.8, random_state=0)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    labels = np.array(["ant", "bee", "cat"], dtype=object)[y]
    labels[::3] = None  # every third row is in the pool
    df["label"] = labels
    return df


@register
class SuggestSamples(Operation):
    """Suggest unlabeled pool rows for a person to label next (active learning).

    ``find(ds)`` fits ``model`` on the dataset's labeled rows, predicts the pool (rows
    whose label is missing) and picks ``k`` rows with ``strategy``. The findings have
    action ``"label"``: one row per suggestion, ``score`` (the strategy's score, higher =
    more worth a label), ``suggested`` (True), ``reason`` (why it was picked),
    ``predicted_label`` and ``confidence`` (the model's current guess; ``predicted_label`` is
    the findings' ``suggestion``: the LabelEditor's Enter accepts it, a class key overrules
    it), ``rank``.

    Parameters
    ----------
    k
        How many rows to suggest (at most the pool size).
    strategy
        One of :data:`STRATEGIES` (default ``"auto"``).
    focus
        ``None``, or ``"weakest"``: multiply each row's score by how weak the model is on
        the classes it probably belongs to (``1 - F1`` from cross-validation on the labeled
        rows, weighted by the predicted probabilities).
    model
        A scikit-learn classifier with ``predict_proba``; ``None``: the default (a kNN vote
        averaged with a small gradient-boosting model).
    features
        Columns to use (default: the feature and text columns).
    random_state
        Seed of the models, k-means and ``random``.
    progress
        Show progress bars on model fits that take a while.
    """

    name: ClassVar[str] = "suggest_samples"
    change_op: ClassVar[str] = ""
    action: ClassVar[str] = "label"
    needs_findings: ClassVar[bool] = False

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small cases for ``tests/test_operations.py``: a pool beside labeled blobs."""
        df = pool_blobs()
        return [
            {
                "frame": df,
                "dataset": {"label": "label"},
                "operation": cls(k=5, random_state=0, progress=False),
                "name": "auto",
            },
            {
                "frame": df,
                "dataset": {"label": "label"},
                "operation": cls(k=4, strategy="margin", random_state=1, progress=False),
                "name": "margin",
            },
        ]

    def __init__(
        self,
        *,
        k: int = 20,
        strategy: str = "auto",
        focus: str | None = None,
        model: Any = None,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
        progress: bool = True,
    ) -> None:
        self.k = k
        self.strategy = strategy
        self.focus = focus
        self.model = model
        self.features = features
        self.random_state = random_state
        self.progress = progress

    def _check(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}; got {self.strategy!r}")
        if self.focus not in (None, "weakest"):
            raise ValueError(f"focus must be None or 'weakest'; got {self.focus!r}")
        if self.focus is not None and self.strategy == "random":
            raise ValueError(
                "focus='weakest' weights the model's uncertainty; strategy='random' uses no "
                "model. Pick another strategy (e.g. the default 'auto') or drop focus"
            )
        _check_model(self.model)

    def _find(self, ds: Dataset) -> Findings:
        """The ``k`` pool rows most worth labeling next (recorded as an event; nothing changes).

        Returns
        -------
        Findings
            Action ``"label"``, best first: ``rank``, ``score`` (the strategy's score),
            ``predicted_label``, ``confidence``, ``suggested``, ``reason``. Label them
            with ``ds.relabel(ids, labels)`` or ``dj.LabelEditor(ds, picks)``.
        """
        from ._base import STAGE_BAR_ROWS
        from ._progress import progress_bar

        self._check()
        show = bool(self.progress) and self.strategy != "random" and len(ds) >= STAGE_BAR_ROWS
        labeled = _labeled_mask(ds)
        # one line for the round: the features, the fit, each block of the pool
        steps = 1 + pool_steps(int((~labeled).sum()))
        with progress_bar(total=steps, desc="suggest samples", disable=not show) as bar:
            return self._round(ds, labeled, bar)

    def _round(self, ds: Dataset, labeled: np.ndarray, bar: Any) -> Findings:
        from ._tabular import dataset_dense

        pool = ~labeled
        n_pool = int(pool.sum())
        k = _check_k(self.k, n_pool)
        ids = np.asarray(ds.ids)
        pool_ids = ids[pool]
        classes = list(ds.classes)
        frame = pd.DataFrame(index=pd.Index(pool_ids, name="sample_id"))
        if self.strategy == "random":
            picks, scores, reasons = select_samples(
                None, k, strategy="random", X=np.zeros((n_pool, 1)), random_state=self.random_state
            )
            predicted: list[Any] = [None] * k
            conf = np.full(k, np.nan)
        else:
            labels = np.asarray(ds.column(ds.label), dtype=object)[labeled]
            bar.set_postfix_str("features")
            X, _ = dataset_dense(ds, self.features)  # through the column roles
            X_pool = X[pool]  # one copy (the pool is most of a large table)
            bar.update(1)
            bar.set_postfix_str("model")
            probs, cls = pool_predictions(
                X[labeled],
                labels,
                X_pool,
                model=self.model,
                classes=classes,
                random_state=self.random_state,
                bar=bar,
            )
            weights = None
            extra: list[str] = [""] * n_pool
            if self.focus == "weakest":
                f1 = weakest_class_scores(
                    X[labeled],
                    labels,
                    classes=cls,
                    model=self.model,
                    random_state=self.random_state,
                    progress=self.progress,
                )
                weak = 1.0 - f1
                weights = probs @ weak + 1e-9
                counts = pd.Series(labels, dtype=object).value_counts()
                n_of = [int(counts.get(c, 0)) for c in cls]
                extra = [
                    f"; probably {cls[c]!r}, "
                    + (
                        f"a class with only {n_of[c]} labeled row(s)"
                        if n_of[c] < 2
                        else f"cross-validated F1 of that class {f1[c]:.2f}"
                    )
                    for c in probs.argmax(axis=1)
                ]
            picks, scores, reasons = select_samples(
                probs,
                k,
                strategy=self.strategy,
                X=X_pool,
                weights=weights,
                random_state=self.random_state,
                classes=cls,
            )
            reasons = [r + extra[i] for r, i in zip(reasons, picks, strict=True)]
            predicted = [cls[int(j)] for j in probs[picks].argmax(axis=1)]
            conf = probs[picks].max(axis=1)
        out = frame.iloc[picks].copy()
        out["rank"] = np.arange(1, k + 1)
        out["score"] = np.asarray(scores, dtype=np.float64)
        out["predicted_label"] = pd.Series(predicted, index=out.index, dtype=object)
        out["confidence"] = conf
        out["suggested"] = True
        out["reason"] = reasons
        out = out[COLUMNS]
        return Findings(
            out,
            op=self.name,
            roles=ROLES,
            action=self.action,
            params=self.json_params(),
            version=int(ds.version),
        )
