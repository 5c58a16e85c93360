"""Prune: the samples to drop when a smaller training set is wanted, losing as little as possible.

Every labeled sample gets the out-of-sample probability its own label receives from the
model (stratified K-fold, the shared cross-validation runner): its *confidence*. Within
each class (so every class keeps its share, and at least one sample), a rule decides
which ``keep`` fraction stays:

- ``"hardest"``: keep the least confident samples. Easy samples are redundant when the
  classes are well separated: the hard ones near the boundaries carry the information.
- ``"easiest"``: keep the most confident samples. When the classes overlap (or labels are
  noisy) the least confident ones are mostly noise, and a small set of them misleads.
- ``"random"``: a stratified random subset.

Which rule is right depends on the data, so ``method="auto"`` picks it by cross-validation:
in each of ``inner_cv`` stratified splits, confidences are computed on the training part
alone (inner cross-validation), each rule prunes the training part, the model is fit on
what each rule keeps and scored (accuracy) on the held-out part; the rule with the best
mean score wins (ties go to ``"random"``, then ``"hardest"``).

:func:`prune_mask` and :func:`select_prune_rule` work on arrays; :class:`Prune` is the
recorded operation behind ``ds.prune()``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ..core import Findings
from ._base import Selection, register
from ._removal import RemovalOperation
from ._space import as_float_matrix

if TYPE_CHECKING:  # pragma: no cover
    from ..core import ChangePlan, Dataset

__all__ = ["PRUNE_RULES", "Prune", "default_prune_model", "prune_mask", "select_prune_rule"]

#: the candidate rules ``method="auto"`` chooses among, in tie-break order
PRUNE_RULES = ("random", "hardest", "easiest")
#: ``"value"``: the lowest KNN-Shapley values of each class go first (see ``DataValuation``)
METHODS = ("auto", *PRUNE_RULES, "value")
ROLES = {"score": "score", "flag": "drop", "reason": "reason"}


def default_prune_model() -> Any:
    """``StandardScaler`` + ``LogisticRegression(max_iter=1000)``: the default model.

    (On a mixed table, :class:`Prune` fits ``LogisticRegression(max_iter=1000)`` on the
    sparse view of its encoding instead: numerics already standardised, categories one-hot,
    the full TF-IDF of each text column.)
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def _check_keep(keep: Any) -> float:
    if isinstance(keep, bool) or not isinstance(keep, numbers.Real) or not (0 < float(keep) < 1):
        raise ValueError(
            f"keep must be the fraction of samples to keep, strictly between 0 and 1; got {keep!r}"
        )
    return float(keep)


def prune_mask(
    codes: Any,
    confidence: Any,
    *,
    keep: float = 0.5,
    rule: str = "hardest",
    random_state: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Which samples a rule drops, and how droppable each one is.

    Parameters
    ----------
    codes : array-like of n ints
        Class of each sample (0..K-1).
    confidence : array-like of n floats
        Out-of-sample probability of each sample's own label.
    keep : float
        Fraction of each class to keep (rounded; at least one sample per class).
    rule : {"hardest", "easiest", "random"}
        See the module docstring.
    random_state : int, optional
        Seed of ``"random"`` and of the tie-break between equal confidences.

    Returns
    -------
    drop : np.ndarray of bool
        The samples to drop.
    score : np.ndarray of float in [0, 1]
        How droppable: the sample's rank within its class in the rule's drop order
        (1 = dropped first).
    """
    keep = _check_keep(keep)
    if rule not in PRUNE_RULES:
        raise ValueError(f"rule must be one of {PRUNE_RULES}; got {rule!r}")
    codes = np.asarray(codes, dtype=np.int64)
    conf = np.asarray(confidence, dtype=np.float64)
    if codes.shape != conf.shape or codes.ndim != 1:
        raise ValueError("codes and confidence must be 1-D arrays of the same length")
    rng = np.random.default_rng(random_state)
    tiebreak = rng.random(len(codes))
    drop = np.zeros(len(codes), dtype=bool)
    score = np.zeros(len(codes))
    for c in np.unique(codes):
        rows = np.flatnonzero(codes == c)
        m = len(rows)
        if rule == "hardest":  # drop the most confident first
            order = np.lexsort((tiebreak[rows], -conf[rows]))
        elif rule == "easiest":  # drop the least confident first
            order = np.lexsort((tiebreak[rows], conf[rows]))
        else:
            order = np.argsort(tiebreak[rows], kind="stable")
        n_keep = max(1, round(keep * m))
        ranked = rows[order]
        drop[ranked[: m - n_keep]] = True
        score[ranked] = 1.0 - np.arange(m) / max(m - 1, 1)
    return drop, score


def _inner_split_task(
    model: Any,
    X: np.ndarray,
    codes: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    keep: float,
    inner_cv: int,
    random_state: int | None,
) -> dict[str, float]:
    from sklearn.base import clone

    from ._folds import fit_predict_proba, stratified_folds

    k = int(codes.max()) + 1
    Xt, yt = X[train], codes[train]
    conf = np.zeros(len(train))
    folds = stratified_folds(yt, _folds_for(yt, inner_cv), random_state)
    for tr, te in folds:
        p = fit_predict_proba(model, Xt, yt, tr, te, k)
        conf[te] = p[np.arange(len(te)), yt[te]]
    out = {}
    for rule in PRUNE_RULES:
        drop, _ = prune_mask(yt, conf, keep=keep, rule=rule, random_state=random_state)
        kept = ~drop
        if len(np.unique(yt[kept])) < 2:
            out[rule] = 0.0
            continue
        est = clone(model).fit(Xt[kept], yt[kept])
        out[rule] = float(np.mean(est.predict(X[test]) == codes[test]))
    return out


def _folds_for(codes: np.ndarray, cv: int) -> int:
    smallest = int(np.bincount(codes).min()) if len(codes) else 0
    return max(2, min(int(cv), smallest))


def select_prune_rule(
    X: Any,
    codes: Any,
    *,
    keep: float = 0.5,
    model: Any = None,
    inner_cv: int = 3,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    progress: bool = True,
) -> tuple[str, dict[str, float]]:
    """The rule that loses least when pruning to ``keep``, by cross-validation.

    Parameters
    ----------
    X : array-like (n, d) or scipy sparse matrix
        Numeric features.
    codes : array-like of n ints
        Class of each sample (0..K-1); every class needs at least ``inner_cv`` samples.
    keep : float
        Fraction of each class to keep.
    model : scikit-learn classifier, optional
        Default :func:`default_prune_model`.
    inner_cv : int
        Stratified splits (at least 2).
    n_jobs, random_state, progress
        joblib workers, seed, progress bar (the shared runner).

    Returns
    -------
    rule : str
        The best rule (see the module docstring for ties).
    scores : dict
        Mean held-out accuracy per rule.
    """
    from ._crossval import run_tasks
    from ._folds import stratified_folds

    keep = _check_keep(keep)
    # a scipy sparse matrix (a mixed table's sparse view) stays sparse
    M = X.tocsr() if hasattr(X, "tocsr") else as_float_matrix(X)
    y = np.asarray(codes, dtype=np.int64)
    if isinstance(inner_cv, bool) or not isinstance(inner_cv, numbers.Integral) or inner_cv < 2:
        raise ValueError(f"inner_cv must be an integer of at least 2; got {inner_cv!r}")
    smallest = int(np.bincount(y).min())
    if smallest < inner_cv:
        raise ValueError(
            f"a class has only {smallest} labeled sample(s), fewer than inner_cv={inner_cv}: "
            "lower inner_cv, pick a rule (method='hardest'/'easiest'/'random'), or label more"
        )
    model = default_prune_model() if model is None else model
    folds = stratified_folds(y, int(inner_cv), random_state)
    tasks = [
        (i, _inner_split_task, (model, M, y, tr, te, keep, int(inner_cv), random_state))
        for i, (tr, te) in enumerate(folds)
    ]
    res = run_tasks(tasks, n_jobs=n_jobs, progress=progress, desc="prune: choosing a rule")
    scores = {r: float(np.mean([res[i][r] for i in range(len(folds))])) for r in PRUNE_RULES}
    best = max(PRUNE_RULES, key=lambda r: (scores[r], -PRUNE_RULES.index(r)))
    return best, scores


def _prune_input(
    ds: Dataset, features: Sequence[str] | None, model: Any
) -> tuple[Any, list[str], Any, str]:
    """``(X, used columns, model, encoding)`` of a prune, read through the column roles.

    A mixed table's default model is a ``LogisticRegression`` on the sparse view of its
    encoding (``encoding="sparse"``), a given model gets the dense view (``"dense"``);
    plain numeric data keeps its matrix and the default pipeline (``"numeric"``).
    """
    from sklearn.linear_model import LogisticRegression

    from ._tabular import Design, dataset_design

    X, used = dataset_design(ds, features)
    if isinstance(X, Design):
        if model is None:
            return X.sparse.tocsr(), used, LogisticRegression(max_iter=1000), "sparse"
        return X.dense, used, model, "dense"
    M = as_float_matrix(X, "the feature matrix")
    return M, used, default_prune_model() if model is None else model, "numeric"


@register
class Prune(RemovalOperation):
    """Choose the samples to drop for a smaller training set; remove them in one change.

    ``find(ds)`` flags, per class, the samples outside the ``keep`` fraction that the rule
    keeps (see the module docstring); unlabeled rows are never flagged.
    ``apply(ds, findings)`` removes the flagged samples as one recorded change (op ``prune``).

    Parameters
    ----------
    keep
        Fraction of the labeled samples of each class to keep (0 < keep < 1).
    method
        ``"auto"`` (pick the rule by inner cross-validation), ``"hardest"``, ``"easiest"``,
        ``"random"``, or ``"value"`` (drop the samples of lowest KNN-Shapley value first,
        as :meth:`find_low_value` computes it).
    model
        The scikit-learn classifier (with ``predict_proba``) the pruned set is for.
        Default: ``StandardScaler`` + ``LogisticRegression(max_iter=1000)``.
    cv
        Folds of the out-of-sample confidences the final ranking uses.
    inner_cv
        Splits ``method="auto"`` compares the rules on.
    features
        Columns to use (default: the feature columns plus the text columns), read through
        the column roles (``ds.roles``). On a mixed table (categories, text, dates, missing
        values) the default model is ``LogisticRegression(max_iter=1000)`` on the sparse
        view of the mixed-table encoding (standardised numerics with missing indicators,
        one-hot categories, the full TF-IDF of each text column); a given ``model`` gets
        the dense view (see :func:`~dcai_jupyter.ops._tabular.dataset_design`).
        Identifier columns are left out.
    n_jobs, random_state, progress
        joblib workers, seed (folds, ``"random"``, tie-breaks), progress bar.
    """

    name: ClassVar[str] = "prune"
    change_op: ClassVar[str] = "prune"
    action: ClassVar[str] = "remove"

    def __init__(
        self,
        *,
        keep: float = 0.5,
        method: str = "auto",
        model: Any = None,
        cv: int = 5,
        inner_cv: int = 3,
        features: Sequence[str] | None = None,
        n_jobs: int | None = None,
        random_state: int | None = 0,
        progress: bool = True,
    ) -> None:
        self.keep = keep
        self.method = method
        self.model = model
        self.cv = cv
        self.inner_cv = inner_cv
        self.features = features
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.progress = progress

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the operations conformance test (tests/test_operations.py)."""
        from sklearn.datasets import make_blobs
        from sklearn.linear_model import LogisticRegression

        X, y = make_blobs(n_samples=60, centers=3, n_features=3, random_state=0)
        df = pd.DataFrame(X, columns=["a", "b", "c"])
        df["label"] = np.array(["ant", "bee", "cat"], dtype=object)[y]
        return [
            {
                "frame": df,
                "dataset": {"label": "label"},
                "operation": cls(keep=0.5, cv=3, random_state=0, progress=False),
                "options": {"reason": "conformance"},
                "name": "auto",
            },
            {
                "frame": df,
                "dataset": {"label": "label"},
                "operation": cls(
                    keep=0.3,
                    method="easiest",
                    model=LogisticRegression(max_iter=300),
                    cv=3,
                    random_state=1,
                    progress=False,
                ),
                "options": {},
                "name": "easiest with an estimator",
            },
        ]

    def _check(self) -> None:
        _check_keep(self.keep)
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}; got {self.method!r}")
        if self.model is not None and not hasattr(self.model, "predict_proba"):
            raise TypeError(
                f"model {type(self.model).__name__} has no predict_proba: pass a classifier "
                "that predicts probabilities (e.g. LogisticRegression)"
            )

    def _find(self, ds: Dataset) -> Findings:
        """Choose the samples to drop for a smaller training set, losing as little as possible.

        Returns
        -------
        Findings
            By sample id: ``score`` (how droppable, 0..1), ``drop``, ``confidence``,
            ``reason``; ``findings.frame.attrs["rule"]`` is the rule used. Recorded as an
            event; remove the dropped samples with :meth:`remove_flagged`.
        """
        from ._crossval import out_of_sample_pred_probs
        from ._validation import encode_labels

        self._check()
        if len(ds) == 0:
            raise ValueError("the dataset is empty: there is nothing to prune")
        labels = np.asarray(ds.column(ds.label), dtype=object)
        has = ~pd.isna(pd.Series(labels, dtype=object)).to_numpy()
        if not has.any():
            raise ValueError("no sample has a label: pruning keeps a share of each class")
        M, used, model, encoding = _prune_input(ds, self.features, self.model)
        present = [c for c in ds.classes if c in set(labels[has].tolist())]
        if len(present) < 2:
            raise ValueError(
                f"only one class ({present[0]!r}) is labeled: pruning needs a model of at "
                "least two classes"
            )
        codes, _ = encode_labels(labels[has], present)
        rule, inner = (
            select_prune_rule(
                M[np.flatnonzero(has)],
                codes,
                keep=float(self.keep),
                model=model,
                inner_cv=self.inner_cv,
                n_jobs=self.n_jobs,
                random_state=self.random_state,
                progress=bool(self.progress),
            )
            if self.method == "auto"
            else (str(self.method), {})
        )
        probs = out_of_sample_pred_probs(
            M[np.flatnonzero(has)],
            labels[has],
            model=model,
            cv=self.cv,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            progress=bool(self.progress),
            classes=present,
            desc="prune",
        )
        conf = probs[np.arange(len(codes)), codes]
        if rule == "value":
            from ._audit_model import DataValuation

            value = DataValuation(features=self.features, random_state=self.random_state)
            drop, score = prune_mask(
                codes,
                value.values(ds)[has],
                keep=float(self.keep),
                rule="easiest",  # the lowest values go first
                random_state=self.random_state,
            )
        else:
            drop, score = prune_mask(
                codes, conf, keep=float(self.keep), rule=rule, random_state=self.random_state
            )
        ids = np.asarray(ds.ids)
        n = len(ids)
        full_drop = np.zeros(n, dtype=bool)
        full_score = np.zeros(n)
        full_conf = np.full(n, np.nan)
        full_drop[has], full_score[has], full_conf[has] = drop, score, conf
        why = {
            "hardest": "easy (confident)",
            "easiest": "hard (unconfident)",
            "random": "random",
            "value": "low KNN-Shapley value",
        }
        reason = np.full(n, None, dtype=object)
        reason[full_drop] = f"{why[rule]}: dropped by the {rule!r} rule"
        frame = pd.DataFrame(
            {"score": full_score, "drop": full_drop, "confidence": full_conf, "reason": reason},
            index=pd.Index(ids, name="sample_id"),
        )
        version = int(ds.version)
        frame.attrs.update(
            {
                "version": version,
                "features": [str(c) for c in used],
                "encoding": encoding,
                "rule": rule,
                "inner_scores": inner,
            }
        )
        return Findings(
            frame,
            op=self.name,
            roles=ROLES,
            action=self.action,
            params=self.json_params(),
            version=version,
        )

    def _summary(self, ds: Dataset, findings: Findings) -> dict[str, Any]:
        return {
            **findings.summary(),
            "rule": findings.frame.attrs.get("rule"),
            "inner_scores": findings.frame.attrs.get("inner_scores", {}),
        }

    def _plan(
        self, ds: Dataset, findings: Findings | None, plan: ChangePlan, select: Selection
    ) -> dict[str, Any]:
        out = super()._plan(ds, findings, plan, select)
        assert findings is not None
        out["rule"] = findings.frame.attrs.get("rule")
        return out
