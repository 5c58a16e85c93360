"""Fix labels, as an operation: find samples whose label is probably wrong, accept suggestions.

- :class:`LabelIssues`: the ``Operation`` (registered as ``accept_suggestions``).
  ``find(ds)`` cross-validates a model on the dataset's labeled rows
  (:mod:`._crossval`), runs confident learning on the out-of-sample probabilities
  (:mod:`._confident_learning`) and returns :class:`~dcai_jupyter.core.Findings`;
  ``plan``/``apply`` relabel the flagged samples to their suggested label as one change.
- :func:`default_label_issues`: the default pipeline on plain arrays (no dataset).
- :func:`find_dataset_label_issues` / :func:`accept_suggestions`: the same as
  ``ds.find_label_issues()`` / ``ds.accept_suggestions()`` for a core ``Dataset``.

The operation reads the dataset through its public API only (``column``, ``ids``,
``positions``, ``classes``) and changes it only through ``ds.plan(...)``/``ds.apply(...)``.
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ..core import ChangePlan, Findings
from ._base import Operation, Selection, register
from ._cl_joint import KEPT, _check_thresholds
from ._confident_learning import MIN_SUPPORT, _issues_frame, check_options
from ._crossval import out_of_sample_pred_probs, probs_refined
from ._params import ParamError
from ._tabular import dataset_design
from ._validation import check_ids, encode_labels

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = [
    "LabelIssues",
    "accept_suggestions",
    "default_label_issues",
    "find_dataset_label_issues",
    "scores_digest",
]

#: the Findings roles of label issues (see ``dcai_jupyter.core.Findings``)
ROLES = {"score": "score", "flag": "is_issue", "suggestion": "suggested_label"}
#: the frame's columns, in order
COLUMNS = ["given_label", "suggested_label", "label_quality", "score", "is_issue"]


def default_label_issues(
    X: Any,
    y: Any,
    *,
    cv: int = 5,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    progress: bool = True,
    ids: Any = None,
    classes: Sequence[Any] | None = None,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: int | Sequence[int] | None = None,
    min_examples_per_class: int = 1,
    rank_by: str = "self_confidence",
    min_support: float = MIN_SUPPORT,
) -> pd.DataFrame:
    """The default pipeline on arrays: ensemble out-of-sample probabilities, then confident learning.

    Parameters
    ----------
    X, y, cv, n_jobs, random_state, progress, classes
        As in :func:`~dcai_jupyter.ops.out_of_sample_pred_probs` (with ``model=None``).
    ids
        Sample ids for the index (default ``0..n-1``).
    filter_by, frac_noise, num_to_remove_per_class, min_examples_per_class, rank_by, min_support
        As in :func:`~dcai_jupyter.ops.find_label_issues` (cleanlab's names and meanings);
        checked before any model is fit. The joint is counted with the thresholds
        ``"kept"`` where the probabilities were not refit without the flagged samples (a
        mixed table's :class:`~._tabular.Design`), cleanlab's otherwise.

    Returns
    -------
    pd.DataFrame
        The frame of :func:`~dcai_jupyter.ops.find_label_issues`.
    """
    opts = check_options(
        filter_by=filter_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        min_examples_per_class=min_examples_per_class,
        rank_by=rank_by,
        min_support=min_support,
    )
    codes, cls = encode_labels(y, classes)
    index = check_ids(ids, len(codes))
    probs = out_of_sample_pred_probs(
        X,
        y,
        cv=cv,
        n_jobs=n_jobs,
        random_state=random_state,
        progress=progress,
        classes=cls,
        desc="label issues",
    )
    rank = opts.pop("rank_by")
    support = opts.pop("min_support")
    if not probs_refined(X):
        opts["thresholds"] = KEPT
    return _issues_frame(codes, probs, cls, index, rank, support, **opts)


def scores_digest(issues: pd.DataFrame | Findings) -> str:
    """sha256 (hex) of the ``label_quality`` values (float64, in sample-id order)."""
    frame = issues.frame if isinstance(issues, Findings) else issues
    q = frame["label_quality"].sort_index().to_numpy(dtype=np.float64)
    return hashlib.sha256(np.ascontiguousarray(q).tobytes()).hexdigest()


@register
class LabelIssues(Operation):
    """Find samples whose given label is probably wrong; relabel them to the suggestion.

    ``find(ds)`` computes out-of-sample class probabilities for the labeled rows by
    stratified K-fold cross-validation and flags labels by confident learning (see
    :func:`~dcai_jupyter.ops.find_label_issues`). Rows without a label (an
    active-learning pool) are left out. ``apply(ds, findings, top=20)`` relabels the
    ``top`` flagged samples to their suggested label as one recorded change
    (op ``accept_suggestions``).

    Parameters
    ----------
    model
        A scikit-learn classifier with ``predict_proba``, cloned and fit once per fold.
        ``None``: the default ensemble (a leave-one-out kNN vote, a logistic regression
        and a Gaussian-per-class model, mixed by out-of-fold agreement with the labels and
        refit without the flagged samples; see
        :func:`~dcai_jupyter.ops.out_of_sample_pred_probs`).
    cv
        Number of stratified folds (every class needs at least ``cv`` labeled samples).
    n_jobs
        joblib workers for the folds (``None``: 1; ``-1``: all cores).
    random_state
        Seed of the folds and the models: the same seed gives the same findings.
    progress
        Show a progress bar while the models fit.
    features
        Columns to use. Default: the feature columns plus the text column (columns that
        cannot be encoded are left out with a warning); the image column (flattened) when
        nothing else is usable.
    filter_by, frac_noise, min_examples_per_class, rank_by, min_support
        How samples are flagged and ranked, with cleanlab's names and meanings (see
        :func:`~dcai_jupyter.ops.find_label_issues`): ``filter_by`` one of
        ``"prune_by_noise_rate"`` (default), ``"prune_by_class"``, ``"both"``,
        ``"confident_learning"``, ``"predicted_neq_given"``, ``"low_normalized_margin"``,
        ``"low_self_confidence"``; ``rank_by`` (the ``label_quality`` and the order)
        ``"self_confidence"`` (default), ``"normalized_margin"`` or
        ``"confidence_weighted_entropy"``. Checked before any model is fit.
    num_to_remove_per_class
        How many samples of each class to flag: one int for every class, or one int per
        class in the order of ``ds.classes`` (with a ``prune`` filter; exact with
        ``"prune_by_class"``).
    thresholds
        Per-class thresholds of the confident joint, one number per class in the order of
        ``ds.classes`` (a list, so the history can record it), as cleanlab's
        ``compute_confident_joint(thresholds=...)``: a sample counts as confidently of class
        ``j`` when ``p_j >= thresholds[j] - 1e-6``; or ``"kept"``: the mean ``p_j`` of the
        samples labelled ``j`` that a first count does not flag (see
        :func:`~dcai_jupyter.ops.find_label_issues`). Default (``None``): ``"kept"`` when
        the probabilities come from models fit once on every labeled row (a given
        ``model``, or the default ensemble on a mixed table, which has no refining passes),
        else cleanlab's mean ``p_j`` of the samples labelled ``j`` (the default ensemble on
        numeric data, refit without the flagged samples). On the nine tables of
        ``benchmarks/real_tables.py`` the kept thresholds raised the mean F1 from 0.657 to
        0.706 at 20 % asymmetric noise and from 0.605 to 0.620 at 10 % uniform noise.

    Examples
    --------
    >>> op = LabelIssues(cv=3, progress=False)           # doctest: +SKIP
    >>> issues = op.find(ds)                             # doctest: +SKIP
    >>> ds.apply(op.plan(ds, issues, top=20))            # doctest: +SKIP
    """

    name: ClassVar[str] = "label_issues"
    change_op: ClassVar[str] = "accept_suggestions"
    selectors: ClassVar[tuple[str, ...]] = ("top",)
    action: ClassVar[str] = "relabel"

    def __init__(
        self,
        *,
        model: Any = None,
        cv: int = 5,
        n_jobs: int | None = None,
        random_state: int | None = 0,
        progress: bool = True,
        features: Sequence[str] | None = None,
        filter_by: str = "prune_by_noise_rate",
        frac_noise: float = 1.0,
        num_to_remove_per_class: int | Sequence[int] | None = None,
        min_examples_per_class: int = 1,
        rank_by: str = "self_confidence",
        min_support: float = MIN_SUPPORT,
        thresholds: Sequence[float] | str | None = None,
    ) -> None:
        self.model = model
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.progress = progress
        self.features = features
        self.filter_by = filter_by
        self.frac_noise = frac_noise
        self.num_to_remove_per_class = num_to_remove_per_class
        self.min_examples_per_class = min_examples_per_class
        self.rank_by = rank_by
        self.min_support = min_support
        # a list (JSON) in the history, whatever sequence was passed
        self.thresholds = (
            np.asarray(thresholds).tolist() if isinstance(thresholds, np.ndarray) else thresholds
        )

    def _options(self, ds: Dataset, present: list[Any]) -> dict[str, Any]:
        """The flagging options, checked; ``num_to_remove_per_class`` aligned to ``present``."""
        ntr: Any = self.num_to_remove_per_class
        if ntr is not None and not isinstance(ntr, numbers.Integral) and np.ndim(ntr) == 1:
            declared = list(ds.classes)
            values = list(ntr)
            if len(values) != len(declared):
                raise ValueError(
                    f"num_to_remove_per_class has {len(values)} values but the dataset has "
                    f"{len(declared)} classes {declared[:20]}: give one per class in that "
                    "order, or one int for all"
                )
            by_class = dict(zip(declared, values, strict=True))
            ntr = [by_class[c] for c in present]
        opts = check_options(
            filter_by=self.filter_by,
            frac_noise=self.frac_noise,
            num_to_remove_per_class=ntr,
            min_examples_per_class=self.min_examples_per_class,
            rank_by=self.rank_by,
            min_support=self.min_support,
        )
        if isinstance(self.thresholds, str):
            opts["thresholds"] = _check_thresholds(self.thresholds, len(present))
        elif self.thresholds is not None:
            declared = list(ds.classes)
            t = self.thresholds
            if isinstance(t, (str, bytes, dict)) or np.ndim(t) != 1 or len(t) != len(declared):
                raise ValueError(
                    f"thresholds must be one number per class in the order of ds.classes "
                    f"{declared[:20]} ({len(declared)} values); got {t!r}"
                )
            by_class = dict(zip(declared, list(t), strict=True))
            opts["thresholds"] = _check_thresholds([by_class[c] for c in present], len(present))
        return opts

    # ------------------------------------------------------------------ building from findings
    @classmethod
    def for_findings(cls, findings: Findings | pd.DataFrame) -> LabelIssues:
        """The operation that made ``findings``, rebuilt from the parameters they record.

        Accepting suggestions needs no model: when the recorded model cannot be rebuilt
        here (its class lives in a module recipe replay does not trust, e.g. a class
        defined in the notebook), the operation keeps the recorded JSON form of it, so
        the change records the same parameters.
        """
        f = _as_findings(findings)
        params = dict(f.params)
        try:
            return cls.from_params(params)  # type: ignore[return-value]
        except ParamError:
            op = cls.from_params({k: v for k, v in params.items() if k != "model"})
            op._recorded_model = params.get("model")  # type: ignore[attr-defined]
            return op  # type: ignore[return-value]

    def json_params(self) -> dict[str, Any]:
        out = super().json_params()
        recorded = getattr(self, "_recorded_model", None)
        if recorded is not None and self.model is None:
            out["model"] = recorded
        return out

    # ------------------------------------------------------------------ find
    def _find(self, ds: Dataset) -> Findings:
        """Rank labeled samples by how likely their label is wrong (recorded as an event).

        Returns
        -------
        Findings
            By sample id, flagged first, most suspicious first: ``given_label``,
            ``suggested_label`` (the suggestion role), ``label_quality`` (0..1),
            ``score`` (1 - quality; the score role), ``is_issue`` (the flag role). Rows
            without a label (an unlabeled pool) are left out. An event
            ``find_label_issues`` records the parameters, the features used and a digest.
        """
        labels = np.asarray(ds.column(ds.label), dtype=object)
        if len(labels) == 0:
            raise ValueError("the dataset is empty: there is nothing to check")
        # Unlabeled rows (an active-learning pool) have no label to be wrong: leave them out.
        labeled = ~pd.isna(pd.Series(labels, dtype=object)).to_numpy()
        if not labeled.any():
            raise ValueError("no sample has a label: there is nothing to check")
        labels = labels[labeled]
        codes, present = encode_labels(labels, _present(ds, labels))
        opts = self._options(ds, present)  # bad options fail before any model is fit
        X, used = dataset_design(ds, self.features)
        probs = out_of_sample_pred_probs(
            X[labeled],
            labels,
            model=self.model,
            cv=self.cv,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            progress=self.progress,
            classes=present,
            desc="label issues",
        )
        return self.findings_from_probs(
            ds, labeled, codes, present, probs, opts, used, refined=probs_refined(X, self.model)
        )

    def findings_from_probs(
        self,
        ds: Dataset,
        labeled: np.ndarray,
        codes: np.ndarray,
        present: list[Any],
        probs: np.ndarray,
        opts: dict[str, Any],
        features: Sequence[Any],
        *,
        refined: bool = False,
    ) -> Findings:
        """The findings ``find`` returns, from out-of-sample probabilities already computed
        (by ``find`` itself, or once for every type of an audit).

        ``labeled`` masks the dataset's rows with a label, ``codes``/``present`` are their
        encoded labels and classes, ``probs`` one row per labeled sample, ``opts`` this
        operation's checked options (``_options``), ``features`` the columns the model used,
        ``refined`` whether the probabilities were refit without the flagged samples
        (:func:`~._crossval.probs_refined`; not: the default thresholds are ``"kept"``).
        """
        ids = np.asarray(ds.ids)[labeled]
        opts = dict(opts)
        if self.thresholds is None and not refined:
            opts["thresholds"] = KEPT
        rank = opts.pop("rank_by")
        support = opts.pop("min_support")
        frame = _issues_frame(
            codes, probs, present, check_ids(ids, len(ids)), rank, support, **opts
        )
        frame["score"] = 1.0 - frame["label_quality"].to_numpy(dtype=np.float64)
        frame = frame[COLUMNS]
        # flagged first, then most suspicious first, ties by sample id: the Findings order
        order = np.lexsort(
            (frame.index.to_numpy(), -frame["score"].to_numpy(), ~frame["is_issue"].to_numpy())
        )
        frame = frame.iloc[order]
        version = int(ds.version)
        frame.attrs.update(
            {
                "version": version,
                "features": [str(c) for c in features],
                "n_unlabeled": int((~labeled).sum()),
                "digest": scores_digest(frame),
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
            "features": list(findings.frame.attrs.get("features", [])),
            "n_unlabeled": int(findings.frame.attrs.get("n_unlabeled", 0)),
        }

    # ------------------------------------------------------------------ plan
    def _coerce_findings(self, findings: Any) -> Findings:
        # a frame with a suggested_label column is accepted too (rows with is_issue, or all)
        return _as_findings(findings)

    def _plan(
        self, ds: Dataset, findings: Findings | None, plan: ChangePlan, select: Selection
    ) -> dict[str, Any]:
        """Relabel the ``top`` flagged samples (all: ``top=None``) to their suggestion.

        Samples relabeled since the findings were computed (current label differs from
        ``given_label``) are left alone and counted in ``skipped_changed_since``.
        """
        assert findings is not None  # the base class checks it (needs_findings)
        rows = findings.flagged.frame
        if select.top is not None:
            rows = rows.iloc[: select.top]
        if len(rows) == 0:
            return {"n": 0, "skipped_changed_since": 0}
        try:
            ids = np.asarray(rows.index, dtype=np.int64)
        except (TypeError, ValueError):
            raise ValueError("findings must be indexed by sample id (integers)") from None
        try:
            pos = ds.positions(ids)
        except KeyError:
            known = set(np.asarray(ds.ids).tolist())
            gone = [int(i) for i in ids if int(i) not in known]
            raise KeyError(
                f"{len(gone)} sample id(s) in the findings are not in the dataset (removed "
                f"since the issues were found?): {gone[:10]}; run ds.find_label_issues() again"
            ) from None
        suggested = rows[findings.roles["suggestion"]].to_numpy(dtype=object)
        if pd.isna(pd.Series(suggested, dtype=object)).any():
            raise ValueError("the findings have missing suggested labels for the selected rows")
        current = pd.Series(np.asarray(ds.column(ds.label), dtype=object)[pos], dtype=object)
        keep = np.ones(len(ids), dtype=bool)
        if "given_label" in rows.columns:
            given = pd.Series(rows["given_label"].to_numpy(dtype=object), dtype=object)
            keep = (current == given).to_numpy(dtype=bool, copy=True)
        skipped = int((~keep).sum())
        keep &= (current != pd.Series(suggested, dtype=object)).to_numpy(dtype=bool)
        if keep.any():
            plan.relabel(ids[keep], list(suggested[keep]))
        return {"n": int(keep.sum()), "skipped_changed_since": skipped}


def _present(ds: Dataset, labels: np.ndarray) -> list[Any]:
    """Declared classes that occur in the labels, in declared order."""
    seen = set(pd.unique(pd.Series(labels, dtype=object)).tolist())
    return [c for c in ds.classes if c in seen]


def _as_findings(issues: Any) -> Findings:
    """Label-issue ``Findings`` from Findings or a frame with ``suggested_label``."""
    if isinstance(issues, Findings):
        if issues.op != LabelIssues.name or issues.column("suggestion") is None:
            raise ValueError(
                f"these findings come from {issues.op!r}, not from find_label_issues: accept "
                "them with that operation's own method"
            )
        return issues
    if not isinstance(issues, pd.DataFrame):
        raise TypeError(
            "issues must be the Findings from ds.find_label_issues() (or a DataFrame with a "
            f"suggested_label column); got {type(issues).__name__}"
        )
    if "suggested_label" not in issues.columns:
        raise ValueError(
            "issues has no 'suggested_label' column: pass what ds.find_label_issues() "
            f"returned (columns here: {list(issues.columns)})"
        )
    frame = issues.copy(deep=False)
    if "score" not in frame.columns:
        frame["score"] = (
            1.0 - frame["label_quality"].to_numpy(dtype=np.float64)
            if "label_quality" in frame.columns
            else 0.0
        )
    if "is_issue" not in frame.columns:
        frame["is_issue"] = True
    frame["is_issue"] = frame["is_issue"].fillna(False).astype(bool)
    version = issues.attrs.get("version")
    return Findings(
        frame,
        op=LabelIssues.name,
        roles=ROLES,
        action=LabelIssues.action,
        version=None if version is None else int(version),
    )


def find_dataset_label_issues(
    ds: Dataset,
    *,
    model: Any = None,
    cv: int = 5,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    progress: bool = True,
    features: Sequence[str] | None = None,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: int | Sequence[int] | None = None,
    min_examples_per_class: int = 1,
    rank_by: str = "self_confidence",
    min_support: float = MIN_SUPPORT,
    thresholds: Sequence[float] | str | None = None,
) -> Findings:
    """``LabelIssues(...).find(ds)``: ``ds.find_label_issues()`` for any core ``Dataset``.

    Parameters are those of :class:`LabelIssues`. Returns its ``Findings`` (an event
    ``find_label_issues`` is recorded in ``ds.history``).
    """
    return LabelIssues(
        model=model,
        cv=cv,
        n_jobs=n_jobs,
        random_state=random_state,
        progress=progress,
        features=features,
        filter_by=filter_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        min_examples_per_class=min_examples_per_class,
        rank_by=rank_by,
        min_support=min_support,
        thresholds=thresholds,
    ).find(ds)


def accept_suggestions(
    ds: Dataset,
    issues: Findings | pd.DataFrame,
    *,
    top: int | None = None,
    reason: str | None = None,
) -> int:
    """``ds.accept_suggestions(issues, top=20)`` for any core ``Dataset``; the new version.

    See :meth:`LabelIssues.plan` for what is relabeled and the errors.
    """
    return LabelIssues.for_findings(issues).apply(ds, issues, top=top, reason=reason)
