"""Audit a dataset: every issue type in one call (``ds.audit()``), and each type on its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..ops import (
    ClassImbalance,
    DataValuation,
    Identifiers,
    ImageIssues,
    Leakage,
    NonIID,
    NullRows,
    TargetLeak,
    UnderperformingGroup,
)
from ._derive import find_method

if TYPE_CHECKING:
    from ..ops import Audit


class AuditMixin:
    find_null_rows = find_method(NullRows, "find_null_rows")
    find_class_imbalance = find_method(ClassImbalance, "find_class_imbalance")
    find_non_iid = find_method(NonIID, "find_non_iid")
    find_underperforming_groups = find_method(UnderperformingGroup, "find_underperforming_groups")
    find_low_value = find_method(DataValuation, "find_low_value")
    find_leakage = find_method(Leakage, "find_leakage")
    find_identifiers = find_method(Identifiers, "find_identifiers")
    find_target_leaks = find_method(TargetLeak, "find_target_leaks")
    find_image_issues = find_method(ImageIssues, "find_image_issues")

    def audit(
        self,
        types: Sequence[str] | None = None,
        test: Any = None,
        *,
        features: Sequence[str] | None = None,
        model: Any = None,
        cv: int = 5,
        n_jobs: int | None = None,
        random_state: int | None = 0,
        pred_probs: Any = None,
        progress: bool = True,
    ) -> Audit:
        """Audit the dataset for every issue type at once: one Findings per type and a summary.

        The types (``dj.ops.ISSUE_TYPES``): ``label``, ``near_duplicate``, ``outlier``,
        ``null``, ``class_imbalance``, ``non_iid``, ``underperforming_group``,
        ``data_valuation``, ``leakage`` (with ``test``), ``identifier``, ``target_leak``,
        ``image`` (with an image column). Each is the find step of its own operation
        (``ds.find_label_issues()``, ``ds.find_non_iid()``, ...); the audit computes the
        out-of-sample probabilities and the neighbour graph they share once, shows one
        progress line and records one ``audit`` event with its parameters.

        Parameters
        ----------
        types
            The issue types to run (default: every type that applies).
        test
            Test rows (a DataFrame or a ``dj.Dataset``) to check for leakage.
        features
            Columns to use (default: the feature columns plus the text column).
        model, cv, n_jobs
            The classifier and folds of the out-of-sample probabilities (as in
            :meth:`find_label_issues`).
        random_state
            Seed of every step.
        pred_probs
            Out-of-sample probabilities you already have (one row per labeled sample in
            row order, one column per class present, in ``ds.classes`` order); recorded as
            a digest.
        progress
            Show one progress line.

        Returns
        -------
        Audit
            ``audit["label"]`` etc. are Findings (show them with ``dj.SampleGrid(ds,
            findings=...)``); ``audit.summary`` is a frame by type (rows flagged, share,
            severity, detail, action, why); ``dj.AuditReport(audit)`` shows it inline.
        """
        from ..ops import run_audit

        return run_audit(
            self,  # type: ignore[arg-type]
            types=types,
            test=test,
            features=features,
            model=model,
            cv=cv,
            n_jobs=n_jobs,
            random_state=random_state,
            pred_probs=pred_probs,
            progress=progress,
        )
