"""What the remove-data operations share: removing what findings flag, as one change.

:class:`RemovalOperation` is the base of :class:`~dcai_jupyter.ops.Outliers`,
:class:`~dcai_jupyter.ops.Prune` and :class:`~dcai_jupyter.ops.Duplicates`: it rebuilds the
operation that made some findings (:meth:`RemovalOperation.for_findings`) and removes the
flagged samples, most suspicious first; :func:`remove_flagged_findings` does that for any
remove-findings (``ds.remove_flagged``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..core import Findings
from ._base import Operation, Selection, check_top, get_operation

if TYPE_CHECKING:  # pragma: no cover
    from ..core import ChangePlan, Dataset

__all__ = ["RemovalOperation", "check_top", "known_ids", "remove_flagged_findings"]


def known_ids(ds: Dataset, ids: np.ndarray, what: str = "sample") -> None:
    """KeyError naming the ids (from findings) that are no longer in ``ds``."""
    if len(ids) == 0:
        return
    known = set(np.asarray(ds.ids).tolist())
    gone = [int(i) for i in ids if int(i) not in known]
    if gone:
        raise KeyError(
            f"{len(gone)} {what} id(s) in the findings are no longer in the dataset (removed "
            f"since the findings were made?): {gone[:10]}; find them again"
        )


class RemovalOperation(Operation):
    """An operation whose change removes the samples its findings flag."""

    action = "remove"
    selectors: ClassVar[tuple[str, ...]] = ("top",)

    def _plan(
        self, ds: Dataset, findings: Findings | None, plan: ChangePlan, select: Selection
    ) -> dict[str, Any]:
        """Remove the flagged samples (the ``top`` most suspicious ones)."""
        assert findings is not None
        top = select.top
        if findings.op != self.name:
            raise TypeError(f"these are {findings.op!r} findings, not {self.name!r} findings")
        rows = findings.flagged
        ids = np.asarray(rows.ids[: len(rows) if top is None else top], dtype=np.int64)
        known_ids(ds, ids)
        if len(ids):
            plan.remove(ids)
        return {"n_removed": len(ids)}


def remove_flagged_findings(
    ds: Dataset, findings: Findings, *, top: int | None = None, reason: str | None = None
) -> int:
    """Remove what remove-findings flag, recorded under the operation that made them."""
    if not isinstance(findings, Findings):
        raise TypeError(f"pass the Findings a find step returned; got {type(findings).__name__}")
    if findings.action != "remove":
        raise ValueError(
            f"{findings.op!r} findings do not propose removals (their action is "
            f"{findings.action!r})"
        )
    try:
        cls = get_operation(findings.op)
    except KeyError:
        cls = None
    if cls is None or not issubclass(cls, RemovalOperation):
        raise ValueError(
            f"{findings.op!r} findings come from no removal operation; remove their flagged "
            "samples with ds.remove(findings.flagged.index)"
        )
    return cls.for_findings(findings).apply(ds, findings, top=top, reason=reason)
