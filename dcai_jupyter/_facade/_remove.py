"""Remove data: duplicates, outliers, pruning (typed one-line methods onto the operations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core import Findings


class RemoveMixin:
    def find_duplicates(
        self,
        *,
        near: bool = True,
        threshold: float | None = None,
        keep: str = "first",
        features: Sequence[str] | None = None,
        model: Any = None,
        cv: int = 5,
        random_state: int | None = 0,
        progress: bool = True,
    ) -> Findings:
        """Group exact and near copies of samples, with a suggested keeper per group.

        Parameters
        ----------
        near
            Also find near copies (``False``: exact copies only: same numbers, same text
            after normalising case, whitespace and punctuation, same image pixels).
        threshold
            Near copies are closer than this fraction of the typical distance from a sample
            to its nearest other sample, in a scaled feature space. ``None``: automatic
            (0.3, lower on low-dimensional data where chance neighbours are close); no
            tuning per dataset.
        keep
            The suggested keeper: ``"first"`` (smallest sample id) or ``"best"`` (the
            group's majority label; a tie goes to the member an out-of-sample model
            finds most likely right).
        features
            Columns to compare (default: feature, text and image columns).
        model, cv, random_state, progress
            The out-of-sample model behind ``keep="best"`` ties; seed; progress bar.

        Returns
        -------
        Findings
            By sample id: ``score`` (1 = exact copy), ``is_duplicate`` (the members to
            remove), ``group``, ``keeper``, ``reason`` (``"exact copy of 12"``, ``"near copy
            of 12: distance 0.03"``), ``nearest_id``, ``distance``. Recorded as an event.
        """
        from ..ops import Duplicates

        return Duplicates(
            near=near,
            threshold=threshold,
            keep=keep,
            features=features,
            model=model,
            cv=cv,
            random_state=random_state,
            progress=progress,
        ).find(self)  # type: ignore[arg-type]

    def remove_duplicates(
        self,
        findings: Findings | None = None,
        *,
        keep: str = "first",
        groups: Sequence[int] | None = None,
        near: bool = True,
        threshold: float | None = None,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
        reason: str | None = None,
    ) -> int:
        """Remove all but one member of each duplicate group: one recorded change.

        Parameters
        ----------
        findings
            From :meth:`find_duplicates`; ``None``: find them now (with ``near``,
            ``threshold``, ``features``, ``random_state``).
        keep
            Which member each group keeps: ``"first"`` or ``"best"`` (see
            :meth:`find_duplicates`); keepers are chosen again when ``findings`` were made
            with another rule.
        groups
            Group numbers to act on (``None``: every group).
        reason
            Recorded with the change.

        Returns
        -------
        int
            The new version.
        """
        from ..ops import Duplicates

        return Duplicates.remove(
            self,  # type: ignore[arg-type]
            findings,
            keep=keep,
            groups=groups,
            near=near,
            threshold=threshold,
            features=features,
            random_state=random_state,
            reason=reason,
        )

    def find_outliers(
        self,
        *,
        threshold: float = 4.0,
        k: int = 10,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
        progress: bool = True,
    ) -> Findings:
        """Score every sample by how far it lies from the others; flag the outliers.

        Parameters
        ----------
        threshold
            Flag samples whose score is above this many robust standard deviations of the
            typical neighbour distance (no contamination rate needed).
        k
            Neighbours whose mean distance is measured.
        features
            Columns to use (default: feature and text columns).
        random_state
            Seed of the principal components on wide data.
        progress
            Show a progress bar on large data.

        Returns
        -------
        Findings
            By sample id: ``score`` (robust SDs above typical), ``is_outlier``, ``reason``.
            Recorded as an event; remove the flagged ones with :meth:`remove_outliers`.
        """
        from ..ops import Outliers

        return Outliers(
            threshold=threshold,
            k=k,
            features=features,
            random_state=random_state,
            progress=progress,
        ).find(self)  # type: ignore[arg-type]

    def remove_outliers(
        self, findings: Findings, *, top: int | None = None, reason: str | None = None
    ) -> int:
        """Remove the flagged outliers (the ``top`` highest-scoring): one recorded change."""
        from ..ops import Outliers

        return Outliers.for_findings(findings).apply(self, findings, top=top, reason=reason)  # type: ignore[arg-type]

    def prune(
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
    ) -> Findings:
        """Choose the samples to drop for a smaller training set, losing as little as possible.

        Parameters
        ----------
        keep
            Fraction of each class's labeled samples to keep (0 < keep < 1).
        method
            ``"auto"`` (the rule that scores best by inner cross-validation),
            ``"hardest"`` (keep the least confident samples), ``"easiest"`` (keep the most
            confident) or ``"random"``.
        model
            The classifier the smaller set is for (default: scaled logistic regression).
        cv, inner_cv, n_jobs, random_state, progress
            Folds of the confidences, splits of the rule choice, workers, seed, progress.
        features
            Columns to use (default: feature and text columns).

        Returns
        -------
        Findings
            By sample id: ``score`` (how droppable, 0..1), ``drop``, ``confidence``,
            ``reason``; ``findings.frame.attrs["rule"]`` is the rule used. Recorded as an
            event; remove the dropped samples with :meth:`remove_flagged`.
        """
        from ..ops import Prune

        return Prune(
            keep=keep,
            method=method,
            model=model,
            cv=cv,
            inner_cv=inner_cv,
            features=features,
            n_jobs=n_jobs,
            random_state=random_state,
            progress=progress,
        ).find(self)  # type: ignore[arg-type]

    def remove_flagged(
        self, findings: Findings, *, top: int | None = None, reason: str | None = None
    ) -> int:
        """Remove the samples remove-findings flag (outliers, prune, duplicates): one change.

        The change is recorded under the operation that made ``findings``
        (``remove_outliers``, ``prune``, ``remove_duplicates``), so recipe replay re-runs it.
        ``top`` takes the highest-scoring flagged samples only (not for duplicates, whose
        groups are removed whole: use :meth:`remove_duplicates` with ``groups``).
        """
        from ..ops._removal import remove_flagged_findings

        return remove_flagged_findings(self, findings, top=top, reason=reason)  # type: ignore[arg-type]
