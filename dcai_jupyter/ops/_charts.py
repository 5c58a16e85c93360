"""Charts of findings (altair, imported when a chart is made)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._charts import offline_chart
from ..core import Findings

__all__ = ["label_issue_chart"]


def label_issue_chart(issues: Findings | pd.DataFrame, *, flagged_only: bool = True) -> Any:
    """An altair heat map: given label (rows) vs suggested label (columns) of flagged samples.

    Parameters
    ----------
    issues
        The ``Findings`` from ``ds.find_label_issues()``, or a frame with ``given_label``
        and ``suggested_label`` columns (e.g. from :func:`~dcai_jupyter.find_label_issues`).
    flagged_only
        Count only flagged rows (the findings' flag role; a frame's ``is_issue``), the
        default, or every row.

    Returns
    -------
    OfflineChart
        Cells coloured and labelled by count; tooltips give the pair and the mean quality.
        It renders with no network (see :func:`dcai_jupyter._charts.offline_chart`);
        ``.chart`` is the altair ``LayerChart``.
    """
    import altair as alt

    if isinstance(issues, Findings):
        frame = issues.frame
        flag_col: str | None = issues.roles["flag"]
        suggestion_col = issues.roles.get("suggestion", "suggested_label")
    elif isinstance(issues, pd.DataFrame):
        frame = issues
        flag_col = "is_issue" if "is_issue" in frame.columns else None
        suggestion_col = "suggested_label"
    else:
        raise TypeError(
            "label_issue_chart takes the Findings from ds.find_label_issues() or the frame "
            f"from dcai_jupyter.find_label_issues(); got {type(issues).__name__}"
        )
    if not {"given_label", suggestion_col} <= set(frame.columns):
        raise ValueError(
            "label_issue_chart needs given_label and suggested_label columns: pass the result "
            f"of find_label_issues (columns here: {list(frame.columns)})"
        )
    rows = frame
    if flagged_only and flag_col is not None:
        rows = rows[rows[flag_col].fillna(False).astype(bool).to_numpy()]
    data = pd.DataFrame(
        {
            "given_label": rows["given_label"].astype(str).to_numpy(),
            "suggested_label": rows[suggestion_col].astype(str).to_numpy(),
        }
    )
    agg: dict[str, tuple[str, str]] = {"count": ("suggested_label", "size")}
    if "label_quality" in rows.columns:
        data["label_quality"] = rows["label_quality"].to_numpy(dtype=float)
        agg["mean_quality"] = ("label_quality", "mean")
    data = data.groupby(["given_label", "suggested_label"], as_index=False).agg(**agg)
    order = sorted(set(data["given_label"]) | set(data["suggested_label"]))
    tooltip: list[Any] = ["given_label", "suggested_label", "count"]
    if "mean_quality" in data.columns:
        tooltip.append(alt.Tooltip("mean_quality:Q", format=".2f"))
    base = alt.Chart(data).encode(
        x=alt.X("suggested_label:N", sort=order, title="suggested label"),
        y=alt.Y("given_label:N", sort=order, title="given label"),
    )
    n = int(data["count"].sum()) if len(data) else 0
    top = int(data["count"].max()) if len(data) else 1
    # the scale starts at 0: with every pair counted the same (1 and 1) the legend still
    # has a gradient to show; its outline keeps it visible on light and dark backgrounds
    heat = base.mark_rect().encode(
        color=alt.Color(
            "count:Q",
            scale=alt.Scale(scheme="oranges", domainMin=0),
            title="samples",
            legend=alt.Legend(gradientStrokeColor="#888", gradientStrokeWidth=1),
        ),
        tooltip=tooltip,
    )
    # the count on each cell: dark on the light cells, white on the dark ones, whatever the
    # notebook's theme (the cells have the same colours in both)
    text = base.mark_text(baseline="middle").encode(
        text="count:Q",
        color=alt.condition(alt.datum.count > top / 2, alt.value("white"), alt.value("black")),
    )
    chart = (heat + text).properties(title=f"Label issues: given vs suggested label ({n} samples)")
    return offline_chart(chart)
