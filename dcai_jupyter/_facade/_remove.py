"""Remove data: duplicates, outliers, pruning (typed one-line methods onto the operations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..ops import Duplicates, Outliers, Prune
from ._derive import act_method, find_method

if TYPE_CHECKING:
    from ..core import Findings


class RemoveMixin:
    find_duplicates = find_method(Duplicates, "find_duplicates")

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

    find_outliers = find_method(Outliers, "find_outliers")

    remove_outliers = act_method(Outliers, "remove_outliers")

    prune = find_method(Prune, "prune")

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
