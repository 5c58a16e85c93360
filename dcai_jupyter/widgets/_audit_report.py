"""``AuditReport(audit)``: the audit inline, one row per issue type, a click opens its findings.

One row per type: the rows flagged and their share, the severity, what was found (columns,
p-value, groups), why it matters and what to do, and a small chart of the type's scores
(flagged ones highlighted). A click on a row opens a :class:`SampleGrid` below the table
with that type's findings, filtered to the flagged rows; where the type has an action
(``relabel``, ``remove``, ``label``) the row has a button doing it to every flagged row
of the type (one recorded change, undone with ``ds.undo()``; it asks to confirm first).

The table is an anywidget (``js/src/audit.js``): everything it shows is text set with
``textContent``, coloured by the notebook theme's CSS variables; the chart is inline SVG,
so the report works offline.
"""

from __future__ import annotations

import logging
from typing import Any

import anywidget
import ipywidgets as ipw
import numpy as np
import traitlets as t

from ._base import MISSING_FRONT_END, static_asset

logger = logging.getLogger("dcai_jupyter.widgets")

__all__ = ["AuditReport", "AuditTable"]

#: bins of the per-type score chart
BINS = 24


def _histogram(findings: Any) -> dict[str, list[int]]:
    """Score counts in ``BINS`` bins (all and flagged), for the row's chart."""
    if findings is None or len(findings) == 0:
        return {"all": [], "flagged": []}
    s = findings.scores.to_numpy(dtype=float)
    f = findings.flags.to_numpy(dtype=bool)
    ok = np.isfinite(s)
    if not ok.any():
        return {"all": [], "flagged": []}
    lo, hi = float(s[ok].min()), float(s[ok].max())
    if not hi > lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, BINS + 1)
    a, _ = np.histogram(s[ok], bins=edges)
    b, _ = np.histogram(s[ok & f], bins=edges)
    return {"all": [int(v) for v in a], "flagged": [int(v) for v in b]}


def _rows(audit: Any) -> list[dict[str, Any]]:
    out = []
    for kind, r in audit.summary.iterrows():
        findings = audit.findings.get(kind)
        hist = _histogram(findings)
        out.append(
            {
                "type": str(kind),
                "rows": int(r["rows"]),
                "share": float(r["share"]),
                "severity": str(r["severity"]),
                "detail": str(r["detail"] or r["error"] or ""),
                "why": str(r["why"]),
                "action": str(r["action"] or "") if findings is not None else "",
                "openable": findings is not None,
                "hist": hist["all"],
                "hist_flagged": hist["flagged"],
            }
        )
    return out


def _removal_op(op: str) -> bool:
    from dcai_jupyter.ops import get_operation
    from dcai_jupyter.ops._removal import RemovalOperation

    try:
        return issubclass(get_operation(op), RemovalOperation)
    except KeyError:
        return False


class AuditTable(anywidget.AnyWidget):
    """The table part of :class:`AuditReport` (one row per issue type).

    Front end -> kernel: ``selected`` (the type whose findings to open) and the custom
    message ``{"type": "act", "issue": <type>}`` (do the type's action to its flagged
    rows). Kernel -> front end: ``rows``, ``status``, ``error``.
    """

    _esm = static_asset("audit.js", MISSING_FRONT_END)
    _css = static_asset("widgets.css", "")

    rows = t.List(t.Dict(), help="One entry per issue type").tag(sync=True)
    title = t.Unicode("").tag(sync=True)
    selected = t.Unicode("", help="The type whose findings are open").tag(sync=True)
    status = t.Unicode("", help="What the last action did").tag(sync=True)
    error = t.Unicode("", help="Why the last request failed").tag(sync=True)
    busy = t.Bool(False).tag(sync=True)


class AuditReport(ipw.VBox):
    """The audit inline: one row per issue type; a click opens a grid of its findings.

    Parameters
    ----------
    audit : Audit
        What ``ds.audit()`` returned.
    height : int
        Height of the findings grid in pixels.

    Attributes
    ----------
    table : AuditTable
        The rows (one per type).
    grid : SampleGrid or None
        The grid of the open type's findings (flagged rows only), or None.

    Examples
    --------
    >>> audit = ds.audit()                     # doctest: +SKIP
    >>> report = dj.AuditReport(audit)         # doctest: +SKIP
        >>> report.show("label")                # doctest: +SKIP
    """

    def __init__(self, audit: Any, *, height: int = 420) -> None:
        from dcai_jupyter.ops import Audit

        if not isinstance(audit, Audit):
            raise TypeError(
                f"AuditReport shows what ds.audit() returns; got {type(audit).__name__}"
            )
        self.audit = audit
        self.grid: Any = None
        self._height = int(height)
        n = len(audit.ds)
        self.table = AuditTable(
            rows=_rows(audit),
            title=f"Audit of {n:,} rows at version {int(audit.version)}",
        )
        self.table.add_class("dcai-audit-table")
        self._grid_box = ipw.VBox()
        super().__init__([self.table, self._grid_box])
        self.add_class("dcai-audit-report")
        self.table.observe(self._on_selected, names=["selected"])
        self.table.on_msg(self._on_msg)

    @property
    def dataset(self) -> Any:
        return self.audit.ds

    # ------------------------------------------------------------------ open a type
    def show(self, kind: str) -> Any:
        """Open ``kind``'s findings in a grid below the table (flagged rows only)."""
        if kind not in self.audit.findings:
            raise KeyError(f"no {kind!r} findings in this audit; it has {self.audit.types}")
        if self.table.selected != kind:
            self.table.selected = kind  # _on_selected builds the grid
        elif self.grid is None:
            self._show(kind)
        return self.grid

    def _on_selected(self, change: Any) -> None:
        kind = change["new"]
        if not kind:
            self.grid = None
            self._grid_box.children = ()
            return
        try:
            self._show(kind)
            self.table.error = ""
        except Exception as e:  # shown in the table, never a silent dead click
            logger.exception("AuditReport: cannot open %s", kind)
            self.table.error = f"cannot open {kind}: {e}"

    def _show(self, kind: str) -> None:
        from ._grid import SampleGrid

        findings = self.audit.findings[kind]
        grid = SampleGrid(self.audit.ds, findings=findings, height=self._height)
        query = dict(grid.query or {})
        query["filter"] = {**dict(query.get("filter") or {}), "flagged": True}
        grid.query = query
        grid.add_class("dcai-audit-grid")
        self.grid = grid
        self._grid_box.children = (grid,)

    # ------------------------------------------------------------------ actions
    def act(self, kind: str) -> int:
        """Do ``kind``'s action to its flagged rows (one recorded change); the new version.

        ``relabel``: accept every suggested label; ``remove``: remove every flagged row
        still in the dataset. Types without such an action raise ``ValueError``.
        """
        from dcai_jupyter.core._provenance import widget_source

        findings = self.audit[kind]
        ds = self.audit.ds
        present = np.isin(findings.ids, np.asarray(ds.ids))
        if not present.all():  # rows removed since (by another type's action, say)
            findings = findings[present]
        flagged = findings.flagged
        with widget_source("AuditReport"):
            if findings.action == "relabel":
                from dcai_jupyter.ops import LabelIssues

                version = LabelIssues.for_findings(findings).apply(
                    ds, findings, reason=f"AuditReport: accept the {kind} suggestions"
                )
            elif findings.action == "remove" and _removal_op(findings.op):
                # recorded under the operation that found them (recipe replay re-runs it)
                from dcai_jupyter.ops._removal import remove_flagged_findings

                version = remove_flagged_findings(
                    ds, findings, reason=f"AuditReport: remove the {kind} findings"
                )
            elif findings.action == "remove":
                ids = [int(i) for i in flagged.ids]
                if not ids:
                    return int(ds.version)
                version = ds.remove(ids, reason=f"AuditReport: remove the {kind} findings")
            else:
                raise ValueError(
                    f"{kind!r} findings have no action to do at once (their action is "
                    f"{findings.action!r}): open them and decide per row"
                )
        return int(version)

    def _on_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "act":
            return
        kind = str(content.get("issue", ""))
        self.table.busy = True
        try:
            before = int(self.audit.ds.version)
            version = self.act(kind)
            changed = version != before
            self.table.status = (
                f"{kind}: done, version {version} (ds.undo() reverts it)"
                if changed
                else f"{kind}: nothing left to change"
            )
            self.table.error = ""
        except Exception as e:
            logger.exception("AuditReport: action on %s failed", kind)
            self.table.error = f"{kind}: {e}"
        finally:
            self.table.busy = False
