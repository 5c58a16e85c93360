"""The HistoryView's charts (altair, drawn with no network by the notebook's own renderer):
the metrics per version, dataset size and class balance per iteration, label churn per
iteration, over one shared version axis."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._charts import offline_chart
from ._history_summary import HistorySummary

__all__ = ["history_chart"]

#: points per chart: longer histories are sampled evenly (the last iteration always kept)
CHART_POINTS = 120
#: classes drawn in the balance chart (the rest as "other")
CHART_CLASSES = 10
#: metrics drawn per version (others are listed in the timeline)
CHART_METRICS = ("accuracy", "macro_f1")
#: the narrowest span of the metric axis: scores closer than this look (nearly) level
METRIC_MIN_SPAN = 0.05
#: marks drawn in no data colour (a note, the selected version's rule): readable on light and
#: dark backgrounds alike
NEUTRAL = "#888888"


def history_chart(summary: HistorySummary, selected: int | None) -> Any:
    """The three charts of ``summary`` (metrics per version, size and class balance, label
    churn), with the last version of iteration ``selected`` marked; an offline altair chart."""
    import altair as alt

    entries = summary.entries
    idx = _sample(len(entries), CHART_POINTS)
    sel_version = (
        entries[selected]["last"] if selected is not None and selected < len(entries) else None
    )
    # size and class balance per iteration
    totals: dict[Any, int] = {}
    for e in entries:
        for k, n in e["classes"].items():
            totals[k] = totals.get(k, 0) + n
    top = [k for k, _ in sorted(totals.items(), key=lambda kv: -kv[1])[:CHART_CLASSES]]
    bal_rows = []
    churn_rows = []
    for i in idx:
        e = entries[i]
        other = 0
        for k, n in e["classes"].items():
            if k in top:
                bal_rows.append({"version": e["last"], "class": _class_text(k), "rows": n})
            else:
                other += n
        if other:
            bal_rows.append({"version": e["last"], "class": "other", "rows": other})
        for kind in ("relabeled", "removed", "added", "updated"):
            n = e["counts"].get(kind, 0)
            if n:
                churn_rows.append(
                    {"iteration": e["iteration"], "version": e["last"], "kind": kind, "rows": n}
                )
    width = 520
    churn_max = max((r["rows"] for r in churn_rows), default=1)
    versions = [entries[i]["last"] for i in idx] or [0]
    version_x = _version_axis(alt, min(versions), max(versions))
    balance = (
        alt.Chart(pd.DataFrame(bal_rows, columns=["version", "class", "rows"]))
        .mark_area()
        .encode(
            x=version_x,
            y=alt.Y("rows:Q", stack="zero", title="rows"),
            color=alt.Color("class:N", title=summary.label),
            tooltip=["version:Q", "class:N", "rows:Q"],
        )
        .properties(width=width, height=110, title="Dataset size and class balance")
    )
    churn = (
        alt.Chart(pd.DataFrame(churn_rows, columns=["iteration", "version", "kind", "rows"]))
        .mark_bar()
        .encode(
            x=version_x,
            y=alt.Y(
                "rows:Q",
                title="rows changed",
                axis=alt.Axis(format="d", values=_whole_ticks(0, churn_max, most=4)),
            ),
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(
                    domain=["relabeled", "removed", "added", "updated"],
                    range=["#e45756", "#72b7b2", "#54a24b", "#b279a2"],
                ),
                title="change",
            ),
            tooltip=["iteration:Q", "version:Q", "kind:N", "rows:Q"],
        )
        .properties(width=width, height=90, title="Label churn per iteration")
    )
    m = summary.metrics
    m = m[m["name"].isin(CHART_METRICS)] if len(m) else m
    if len(m):
        mdata = m.groupby(["version", "name"], as_index=False)["value"].last()[
            ["version", "name", "value"]
        ]
        lo, hi = _metric_domain(mdata["value"])
        metric = (
            alt.Chart(mdata)
            .mark_line(point=True, clip=True)
            .encode(
                x=version_x,
                y=alt.Y(
                    "value:Q",
                    scale=alt.Scale(domain=[lo, hi], nice=False, zero=False),
                    axis=alt.Axis(format=".2f", tickCount=5),
                    title="score",
                ),
                color=alt.Color("name:N", title="metric"),
                tooltip=["version:Q", "name:N", alt.Tooltip("value:Q", format=".4f")],
            )
            .properties(width=width, height=110, title="Metrics per version (ds.evaluate)")
        )
    else:
        metric = (
            alt.Chart(pd.DataFrame({"text": ["no metrics yet: run ds.evaluate()"]}))
            .mark_text(align="left", fontSize=12, color=NEUTRAL)
            .encode(text="text:N")
            .properties(width=width, height=24, title="Metrics per version (ds.evaluate)")
        )
    layers = [metric, balance, churn]
    if sel_version is not None:
        rule = (
            alt.Chart(pd.DataFrame({"version": [sel_version]}))
            .mark_rule(color=NEUTRAL, strokeDash=[4, 3])
            .encode(x="version:Q")
        )
        layers = [metric if not len(m) else metric + rule, balance + rule, churn + rule]
    # no background of its own: the notebook's (light or dark) shows through, and the
    # text colours come from the renderer's theme (JupyterLab asks for vega's dark theme
    # under a dark Lab theme)
    return offline_chart(
        alt.vconcat(*layers)
        .resolve_scale(color="independent")
        .properties(background="transparent")
        .configure(background="transparent")
    )


def _version_axis(alt: Any, first: int, last: int) -> Any:
    """The version x encoding shared by the charts: whole versions only (no 0.5, 1.5 ticks), one
    domain for all three, half a version of room at each end (a bar there is drawn whole), at
    least one version either side of a single one."""
    lo, hi = (max(0, first - 1), first + 1) if first == last else (first, last)
    return alt.X(
        "version:Q",
        title="version",
        scale=alt.Scale(domain=[lo - 0.5, hi + 0.5], nice=False, zero=False),
        axis=alt.Axis(tickMinStep=1, format="d", values=_whole_ticks(lo, hi)),
    )


def _whole_ticks(lo: int, hi: int, most: int = 8) -> list[int]:
    """At most about ``most`` whole-number ticks from ``lo`` to ``hi``, a step of 1, 2 or 5
    times a power of ten. Listed explicitly: the Vega in JupyterLab ignores ``tickMinStep``
    and ticked 0.5, 1.5, ... (shown as "1", "1", "2", "2" with format "d")."""
    span = max(1, int(hi) - int(lo))
    base = 1
    while True:
        step = next((base * m for m in (1, 2, 5) if span / (base * m) <= most), 0)
        if step:
            break
        base *= 10
    first = -(-int(lo) // step) * step
    return list(range(first, int(hi) + 1, step))


def _metric_domain(values: Any) -> tuple[float, float]:
    """A y domain for scores: at least ``METRIC_MIN_SPAN`` wide (equal or nearly equal scores
    look equal, not far apart), padded, and within 0..1 when the scores are (accuracy, F1)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    if v.empty:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    if hi - lo < METRIC_MIN_SPAN:
        mid = (lo + hi) / 2
        lo, hi = mid - METRIC_MIN_SPAN / 2, mid + METRIC_MIN_SPAN / 2
    pad = (hi - lo) * 0.1
    lo, hi = lo - pad, hi + pad
    if 0.0 <= v.min() and v.max() <= 1.0:  # a rate: keep the axis within 0..1
        lo, hi = max(0.0, lo), min(1.0, hi)
        if hi - lo < METRIC_MIN_SPAN:  # pushed against 0 or 1
            lo, hi = (0.0, METRIC_MIN_SPAN) if lo == 0.0 else (1.0 - METRIC_MIN_SPAN, 1.0)
    # whole hundredths: the ticks read 0.90, 0.92, ... rather than 0.9027
    return float(np.floor(lo * 100) / 100), float(np.ceil(hi * 100) / 100)


def _class_text(k: Any) -> str:
    return "(unlabeled)" if k is None else str(k)


def _sample(n: int, k: int) -> list[int]:
    """At most ``k`` evenly spaced indices of ``0..n-1``, always with the last."""
    if n <= k:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, k).round().astype(int).tolist()) | {n - 1})
