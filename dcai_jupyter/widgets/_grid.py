"""SampleGrid: a virtual-scrolling table / gallery of a Dataset, paged from the kernel."""

from __future__ import annotations

from typing import Any

import traitlets as t

from ._base import MISSING_FRONT_END, DatasetWidget, static_asset
from ._protocol import (
    PageSource,
    ProtocolError,
    build_schema,
    normalize_issues,
    parse_ids,
    parse_page_request,
)

__all__ = ["SampleGrid"]


class SampleGrid(DatasetWidget):
    """Inline grid of a Dataset's samples: images, text, numbers, labels and label issues.

    Scrolls over any number of rows: the browser asks the kernel for the page it shows, so
    what crosses the wire is bounded by the screen, not the dataset. Sort by any column
    (click a header), filter by label, issues only or text, select rows (synced to
    :attr:`selected_ids`) and relabel inline (dropdown or digit keys 1-9 on a focused row).
    Edits are ``Dataset`` method calls recorded with provenance source ``widget``; every open
    view refreshes after any change of the dataset.

    Parameters
    ----------
    ds : Dataset
        The dataset to show.
    issues : pd.DataFrame, optional
        Label issues indexed by sample id (``given_label``, ``suggested_label``,
        ``label_quality``, ``is_issue``), e.g. from ``find_label_issues``: shown as columns
        and badges, sortable, and usable as the "issues only" filter.
    layout : {"table", "gallery"}
        Table rows, or a contact sheet of thumbnails (image datasets); switch later with
        the toolbar button or ``grid.mode = "gallery"``.
    height : int
        Height of the scrolling area in pixels.
    page_size : int
        Rows asked for per request.

    Examples
    --------
    >>> grid = SampleGrid(ds, issues=issues, layout="gallery")  # doctest: +SKIP
    >>> grid.selected_ids  # doctest: +SKIP
    [12, 40]
    """

    _esm = static_asset("grid.js", MISSING_FRONT_END)
    _css = static_asset("widgets.css", "")
    _widget_name = "SampleGrid"

    schema = t.List(t.Dict(), help="Columns: name, kind, role, sortable").tag(sync=True)
    has_issues = t.Bool(False).tag(sync=True)
    image_column = t.Unicode("").tag(sync=True)
    mode = t.Enum(
        ("table", "gallery"),
        default_value="table",
        help="Table rows or gallery tiles (``layout`` is ipywidgets' styling trait)",
    ).tag(sync=True)
    selected_ids = t.List(t.Int(), help="Sample ids selected in the browser").tag(sync=True)
    page_size = t.Int(50).tag(sync=True)
    height = t.Int(480).tag(sync=True)

    def __init__(
        self,
        ds: Any,
        *,
        issues: Any = None,
        layout: str = "table",
        height: int = 480,
        page_size: int = 50,
    ) -> None:
        frame = normalize_issues(issues)
        schema = build_schema(ds, frame)
        self._source = PageSource(ds, frame, schema)
        super().__init__(
            ds,
            schema=schema,
            has_issues=frame is not None,
            image_column=str(getattr(ds, "image_column", None) or ""),
            mode=layout,
            height=int(height),
            page_size=max(1, min(int(page_size), 500)),
        )

    @property
    def issues(self) -> Any:
        """The issues frame shown (normalized), or None."""
        return self._source.issues

    def _on_change(self, change: Any) -> None:
        self._source.changed(change)

    # -- requests ----------------------------------------------------------------------
    def _handlers(self) -> dict[str, Any]:
        return {"page": self._on_page, "relabel": self._on_relabel, "remove": self._on_remove}

    def _on_page(self, msg: dict[str, Any]) -> dict[str, Any]:
        sortable = [c["name"] for c in self.schema if c.get("sortable")]
        query = parse_page_request(
            msg,
            sortable=sortable,
            match_class=self._match_class,
            has_issues=self._source.issues is not None,
        )
        return self._source.page(query)

    def _on_relabel(self, msg: dict[str, Any]) -> dict[str, Any]:
        ids = parse_ids(msg.get("ids"))
        if "label" not in msg:
            raise ProtocolError("malformed request: relabel needs a label")
        label = self._match_class(msg["label"])
        with self._widget_source():
            version = self._ds.relabel(ids, [label] * len(ids))
        return {"type": "ok", "op": "relabel", "version": int(version), "ids": ids}

    def _on_remove(self, msg: dict[str, Any]) -> dict[str, Any]:
        ids = parse_ids(msg.get("ids"))
        with self._widget_source():
            version = self._ds.remove(ids)
        with self._lock:
            gone = set(ids)
            if gone & set(self.selected_ids):
                self.selected_ids = [i for i in self.selected_ids if i not in gone]
        return {"type": "ok", "op": "remove", "version": int(version), "ids": ids}
