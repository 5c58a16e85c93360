"""What every audited issue type shares: ONE set of out-of-sample probabilities and ONE
nearest-neighbour graph, computed once per audit.

:class:`AuditContext` computes them lazily (the first type that needs them pays, the
others reuse them): the labels of a dataset, the out-of-sample class probabilities of its
labeled rows (the same cross-validation ``ds.find_label_issues()`` runs, so the audit's
label findings equal those of the label-issue operation with the same parameters), and
the ``GRAPH_K`` nearest neighbours of every row in the scaled feature space (the space of
the remove-data operations, :mod:`._space`), from the neighbour service
(:func:`~._neighbours.neighbour_graph`: exact up to ``EXACT_MAX`` rows, approximate above).
Every type that reads neighbours takes them from this one graph: ``near_duplicate`` and
``outlier`` as candidates re-measured exactly in their own spaces.

``ds.audit()`` builds one context and makes it active (:func:`active_context`) while its
issue types run; an issue type run on its own (``NonIID().find(ds)``) builds its own.
Either way a type's result is the same: the context is a cache, never a second
implementation.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = [
    "GRAPH_K",
    "AuditContext",
    "activate",
    "active_context",
    "context_for",
    "finding_frame",
    "make_findings",
]

#: neighbours per row in the shared graph (the types take the first ``k`` they need)
GRAPH_K = 20
#: the neighbour graph is searched in at most this many principal components
GRAPH_MAX_DIMS = 64

_ACTIVE: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "dcai_audit_context", default=None
)


class AuditContext:
    """The shared inputs of the audited issue types on one dataset at one version.

    Parameters
    ----------
    ds
        The dataset.
    features
        Columns to use (default: the feature columns plus the text column).
    model, cv, n_jobs, random_state
        As in :class:`~dcai_jupyter.ops.LabelIssues`: the cross-validation of the
        probabilities.
    pred_probs
        Out-of-sample probabilities a caller already has (one row per labeled sample in
        dataset order, one column per class of ``ds.classes`` present in the labels, in
        that order); ``None``: cross-validated here.
    progress
        Let the cross-validation and the neighbour search show their own bars (the audit
        shows one line of its own instead and passes ``False``).
    """

    def __init__(
        self,
        ds: Dataset,
        *,
        features: Sequence[str] | None = None,
        model: Any = None,
        cv: int = 5,
        n_jobs: int | None = None,
        random_state: int | None = 0,
        pred_probs: Any = None,
        progress: bool = False,
    ) -> None:
        self.ds = ds
        self.version = int(ds.version)
        self.features = None if features is None else list(features)
        self.model = model
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.progress = bool(progress)
        self._given_probs = None if pred_probs is None else np.asarray(pred_probs, dtype=float)
        self._cache: dict[str, Any] = {}

    # ------------------------------------------------------------------ identity
    def serves(self, ds: Dataset, features: Sequence[str] | None, random_state: Any) -> bool:
        """Whether this context holds what an issue type with these options needs on ``ds``."""
        same_features = (None if features is None else list(features)) == self.features
        return (
            ds is self.ds
            and int(ds.version) == self.version
            and same_features
            and random_state == self.random_state
        )

    # ------------------------------------------------------------------ labels
    @property
    def labels(self) -> np.ndarray:
        """The label of every row (object array, missing for an unlabeled pool row)."""
        if "labels" not in self._cache:
            self._cache["labels"] = np.asarray(self.ds.column(self.ds.label), dtype=object)
        return self._cache["labels"]

    @property
    def labeled(self) -> np.ndarray:
        """Boolean mask of the rows that have a label."""
        if "labeled" not in self._cache:
            self._cache["labeled"] = ~pd.isna(pd.Series(self.labels, dtype=object)).to_numpy()
        return self._cache["labeled"]

    @property
    def present(self) -> list[Any]:
        """The declared classes that occur in the labels, in declared order."""
        if "present" not in self._cache:
            seen = set(pd.unique(pd.Series(self.labels[self.labeled], dtype=object)).tolist())
            self._cache["present"] = [c for c in self.ds.classes if c in seen]
        return self._cache["present"]

    @property
    def codes(self) -> np.ndarray:
        """The labeled rows' classes as column numbers of :attr:`present`."""
        if "codes" not in self._cache:
            from ._validation import encode_labels

            codes, _ = encode_labels(self.labels[self.labeled], self.present)
            self._cache["codes"] = codes
        return self._cache["codes"]

    # ------------------------------------------------------------------ probabilities
    @property
    def probs(self) -> np.ndarray:
        """Out-of-sample class probabilities of the labeled rows (columns: :attr:`present`)."""
        if "probs" not in self._cache:
            self._cache["probs"] = self._compute_probs()
        return self._cache["probs"]

    @property
    def has_probs(self) -> bool:
        return "probs" in self._cache

    def _compute_probs(self) -> np.ndarray:
        n_lab = int(self.labeled.sum())
        if self._given_probs is not None:
            P = self._given_probs
            if P.ndim != 2 or P.shape != (n_lab, len(self.present)):
                raise ValueError(
                    f"pred_probs must have one row per labeled sample and one column per "
                    f"class present ({n_lab} x {len(self.present)}); got {P.shape}"
                )
            return P
        from ._crossval import out_of_sample_pred_probs, probs_refined
        from ._tabular import dataset_design

        X, used = dataset_design(self.ds, self.features)
        self._cache["design_features"] = [str(c) for c in used]
        self._cache["refined"] = probs_refined(X, self.model)
        return out_of_sample_pred_probs(
            X[self.labeled],
            self.labels[self.labeled],
            model=self.model,
            cv=self.cv,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            progress=self.progress,
            classes=self.present,
            desc="audit: probabilities",
        )

    @property
    def refined(self) -> bool:
        """Whether the probabilities were refit without the flagged samples (not when the
        caller gave them; see :func:`~._crossval.probs_refined`)."""
        self.probs  # noqa: B018 - computes them
        return bool(self._cache.get("refined", False))

    @property
    def design_features(self) -> list[str]:
        """The columns the probabilities' model read (empty when the caller gave them)."""
        self.probs  # noqa: B018 - computes them
        return list(self._cache.get("design_features", []))

    # ------------------------------------------------------------------ geometry
    @property
    def matrix(self) -> tuple[np.ndarray, list[str]]:
        """The dataset's numeric feature matrix and the columns it encodes."""
        if "matrix" not in self._cache:
            from ._space import dataset_matrix

            self._cache["matrix"] = dataset_matrix(self.ds, self.features)
        return self._cache["matrix"]

    @property
    def space(self) -> np.ndarray:
        """The scaled feature space (at most ``GRAPH_MAX_DIMS`` principal components)."""
        if "space" not in self._cache:
            from ._space import reduce_dims, scale_columns

            M, _ = self.matrix
            self._cache["space"] = reduce_dims(scale_columns(M), GRAPH_MAX_DIMS, self.random_state)
        return self._cache["space"]

    @property
    def graph(self) -> tuple[np.ndarray, np.ndarray]:
        """Distances and row positions of every row's ``GRAPH_K`` nearest other rows."""
        if "graph" not in self._cache:
            from ._neighbours import neighbour_graph

            self._cache["graph"] = neighbour_graph(
                self.space,
                GRAPH_K,
                random_state=self.random_state,
                n_jobs=self.n_jobs,
                progress=self.progress,
                desc="audit: neighbours",
            )
        return self._cache["graph"]

    @property
    def has_graph(self) -> bool:
        return "graph" in self._cache


def _same_model(ctx: AuditContext, model: Any, cv: int) -> bool:
    from ._params import to_json

    try:
        return bool(to_json(model) == to_json(ctx.model) and cv == ctx.cv)
    except Exception:
        return False


def finding_frame(ds: Dataset, columns: dict[str, Any]) -> pd.DataFrame:
    """A findings frame over every row of ``ds`` (by sample id) from per-row columns."""
    return pd.DataFrame(columns, index=pd.Index(np.asarray(ds.ids), name="sample_id"))


def make_findings(op: Any, ds: Dataset, frame: pd.DataFrame, roles: dict[str, str]) -> Any:
    """``Findings`` of the audited issue type ``op`` (its name, action and parameters)."""
    from ..core import Findings

    version = int(ds.version)
    frame.attrs.setdefault("version", version)
    return Findings(
        frame, op=op.name, roles=roles, action=op.action, params=op.json_params(), version=version
    )


def active_context() -> AuditContext | None:
    """The context of the audit running now (``None`` outside ``ds.audit()``)."""
    return _ACTIVE.get()


@contextlib.contextmanager
def activate(ctx: AuditContext) -> Iterator[AuditContext]:
    """Make ``ctx`` the context the issue types read while the block runs."""
    token = _ACTIVE.set(ctx)
    try:
        yield ctx
    finally:
        _ACTIVE.reset(token)


def in_audit() -> bool:
    """Whether an audit is running (its one progress line then stands for its types')."""
    return _ACTIVE.get() is not None


def context_for(
    ds: Dataset,
    *,
    features: Sequence[str] | None = None,
    random_state: int | None = 0,
    model: Any = None,
    cv: int = 5,
    n_jobs: int | None = None,
    progress: bool = True,
) -> AuditContext:
    """The active audit's context when it serves these options on ``ds``, else a new one.

    A new one (an issue type found on its own, ``ds.find_non_iid()``...) shows the progress
    lines of its cross-validation and neighbour search (``progress``): on large data they
    are most of the time such a find takes. Inside ``ds.audit()`` the audit's one line
    stands for them.
    """
    ctx = _ACTIVE.get()
    if ctx is not None and ctx.serves(ds, features, random_state) and _same_model(ctx, model, cv):
        return ctx
    return AuditContext(
        ds,
        features=features,
        model=model,
        cv=cv,
        n_jobs=n_jobs,
        random_state=random_state,
        progress=progress,
    )
