"""HistoryView: the iterations of a dataset's history, their metrics, charts, diffs and revert.

``HistoryView(ds)`` is a column of three parts:

- a timeline (:class:`HistoryTimeline`, an anywidget): one entry per iteration (a cell run
  or a widget session) with its operations and row counts, source (cell ``[12]`` and its
  code, or the widget), time and the metrics recorded at its versions; paged from the
  kernel, newest first, so a history of 10,000 changes never ships at once;
- charts (altair, drawn with no network by the notebook's own renderer): the metrics per
  version, dataset size and class balance per iteration, label churn per iteration;
- a preview: selecting an iteration shows its diff against the version before it as a
  read-only :class:`SampleGrid` of the rows it touched, and offers "revert to here"
  (``ds.revert_to(v)``: one new recorded change; history is never deleted).

Each part is a file of its own: the summary the parts show (``_history_summary``, read
from the history's public reads), the timeline (``_history_timeline``), the charts
(``_history_charts``) and the preview (``_history_preview``); this file puts them together.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as ipw

from ._grid import SampleGrid
from ._history_charts import history_chart
from ._history_preview import preview_grid
from ._history_timeline import HistoryTimeline

__all__ = ["HistoryTimeline", "HistoryView"]


class HistoryView(ipw.VBox):
    """The iteration history of a dataset: timeline, charts, diff preview, revert to here.

    Parameters
    ----------
    ds : Dataset
        The dataset whose history to show. The view follows every later change.
    preview_height : int
        Height of the preview grid in pixels.

    Attributes
    ----------
    timeline : HistoryTimeline
        The paged list of iterations (select one with ``view.select(k)`` or a click).
    charts : ipywidgets.Output
        Metric per version, size and class balance, label churn (altair, no network).
    preview : SampleGrid or None
        The rows the selected iteration touched, as they were at its end (removed rows as
        they were before), with the change in the ``change`` column; read-only.

    Examples
    --------
    >>> view = dj.HistoryView(ds)  # doctest: +SKIP
    >>> view.select(3)  # doctest: +SKIP
    >>> view.preview_diff.counts()  # doctest: +SKIP
    {'added': 0, 'removed': 2, 'relabeled': 14, 'modified': 0}
    >>> view.revert_to_selected()  # doctest: +SKIP
    """

    def __init__(self, ds: Any, *, preview_height: int = 300) -> None:
        self._preview_height = int(preview_height)
        self.preview: SampleGrid | None = None
        self.preview_diff: Any = None
        self.timeline = HistoryTimeline(ds, on_select=self._selected)
        self.charts = ipw.Output()
        self.charts.add_class("dcai-history-charts")
        self._preview_box = ipw.VBox()
        self._chart_version = -1
        super().__init__([self.timeline, self.charts, self._preview_box])
        self.add_class("dcai-history-view")
        self._draw_charts()
        self.timeline.observe(lambda _: self._draw_charts(), names=["n_iterations", "version"])

    @property
    def dataset(self) -> Any:
        """The Dataset shown: the timeline's (it follows a re-run ``Dataset(...)`` cell)."""
        return self.timeline.dataset

    @property
    def _ds(self) -> Any:
        return self.timeline.dataset

    def _draw_charts(self) -> None:
        s = self.timeline.summary
        sel = self.timeline.selected
        key = (s.version, sel)
        if key == self._chart_version:
            return
        self._chart_version = key  # type: ignore[assignment]
        bundle, meta = history_chart(s, sel if sel >= 0 else None)._repr_mimebundle_()
        self.charts.outputs = ({"output_type": "display_data", "data": bundle, "metadata": meta},)

    def select(self, iteration: int) -> None:
        """Select ``iteration`` (0 = base data): preview its diff and mark it in the charts."""
        self.timeline.select(iteration)

    def _selected(self, iteration: int) -> None:
        e = self.timeline.summary.entry(iteration)
        ds = self._ds
        if iteration == 0:
            self.preview_diff = None
            self._set_preview(None, "the base data: nothing changed yet")
        else:
            d = ds.history.diff(e["first"] - 1, e["last"])
            self.preview_diff = d
            grid, note = preview_grid(ds, d, self._preview_height)
            counts = ", ".join(f"{k} {v}" for k, v in d.counts().items() if v) or "no net change"
            self._set_preview(
                grid,
                f"iteration {iteration} (versions {e['first']}..{e['last']}, {e['title']}): "
                f"{counts}{note}",
            )
        self._draw_charts()

    def _set_preview(self, grid: SampleGrid | None, text: str) -> None:
        old = self.preview
        self.preview = grid
        self._preview_box.children = [grid] if grid is not None else []
        self.timeline.set_preview_text(text)
        if old is not None:
            old.close()

    def revert_to_selected(self) -> int:
        """``ds.revert_to(v)`` for the last version of the selected iteration (one new change)."""
        k = self.timeline.selected
        if k < 0:
            raise ValueError("no iteration is selected: call select(k) first")
        e = self.timeline.summary.entry(k)
        return int(self._ds.revert_to(e["last"], reason=f"HistoryView: revert to iteration {k}"))

    def close(self) -> None:
        if self.preview is not None:
            self.preview.close()
        self.timeline.close()
        self.charts.close()
        super().close()
