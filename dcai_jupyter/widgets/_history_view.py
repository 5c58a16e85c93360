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
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as ipw
import numpy as np
import pandas as pd
import traitlets as t

from .._charts import offline_chart
from ..core import Dataset as CoreDataset
from ..core import Findings
from ._base import MISSING_FRONT_END, DatasetWidget, static_asset
from ._grid import SampleGrid
from ._protocol import ProtocolError

__all__ = ["HistoryTimeline", "HistoryView"]

#: entries per timeline page (the browser asks for at most MAX_PAGE)
PAGE = 50
MAX_PAGE = 200
#: cell code shown per entry (the rest on request)
CODE_CLAMP = 600
#: points per chart: longer histories are sampled evenly (the last iteration always kept)
CHART_POINTS = 120
#: classes drawn in the balance chart (the rest as "other")
CHART_CLASSES = 10
#: rows of the preview grid
PREVIEW_ROWS = 2000
#: metrics drawn per version (others are listed in the timeline)
CHART_METRICS = ("accuracy", "macro_f1")
#: the narrowest span of the metric axis: scores closer than this look (nearly) level
METRIC_MIN_SPAN = 0.05
#: marks drawn in no data colour (a note, the selected version's rule): readable on light and
#: dark backgrounds alike
NEUTRAL = "#888888"

_KIND_WORDS = {
    "relabeled": "relabeled",
    "updated": "updated",
    "removed": "removed",
    "added": "added",
}


def _change_counts(deltas: Any, label: str) -> tuple[dict[str, int], dict[Any, int]]:
    """Rows per kind, and the change of class counts, of one change (a compact one-row label
    set is an ``(id, old, new)`` tuple)."""
    if isinstance(deltas, tuple):
        o, n = _key(deltas[1]), _key(deltas[2])
        return {"relabeled": 1}, ({o: -1, n: 1} if o != n else {})
    counts: dict[str, int] = {}
    classes: dict[Any, int] = {}

    def bump(store: dict[Any, int], key: Any, n: int) -> None:
        store[key] = store.get(key, 0) + n

    for d in deltas:
        t_ = d["t"]
        if t_ == "dt":
            continue  # a dtype change (a label column became nullable) touches no row
        n = len(d["i"])
        if t_ == "set":
            if "c" in d:
                bump(counts, "updated", n)
                continue
            bump(counts, "relabeled", n)
            for o, v in zip(d["o"], d["n"], strict=True):
                bump(classes, _key(o), -1)
                bump(classes, _key(v), 1)
        else:
            kind = "removed" if t_ == "del" else "added"
            bump(counts, kind, n)
            sign = -1 if t_ == "del" else 1
            for v in d["r"].get(label, []):
                bump(classes, _key(v), sign)
    return counts, classes


def _key(v: Any) -> Any:
    """A class value as a dict key (encoded values may be dicts or lists; None for missing)."""
    if isinstance(v, dict) and set(v) in ({"$na"}, {"$nat"}):
        return None  # an encoded missing label (a pool row)
    if isinstance(v, (dict, list)):
        return repr(v)
    try:
        if pd.isna(v):
            return None  # NaN, None, pd.NA: a missing label (a pool row)
    except (TypeError, ValueError):
        pass
    return v


class _Summary:
    """Everything the view shows about the history at one dataset version (kernel side).

    Kept up to date incrementally: ``update(ds)`` reads only the changes recorded since
    the last update (core's :class:`IterationLog` says which iteration made each), so a
    click in a long history costs the view one change, not the whole history.
    """

    def __init__(self, ds: Any) -> None:
        h = ds.history
        self.label = label = ds.label
        self.version = int(ds.version)
        self._log = h.iteration_log()  # read up to the head
        head = self._log.head
        changes = h.store.raw_changes(1, head) if head else []
        per_change = [_change_counts(c, label) for c in changes]
        ops = self._log.ops(1, head)
        # class counts now, walked back to the base
        cur = pd.Series(np.asarray(ds.column(label), dtype=object)).value_counts(dropna=False)
        counts_now = {_key(k): int(v) for k, v in cur.items()}
        base = dict(counts_now)
        for _, cls in per_change:
            for k, n in cls.items():
                base[k] = base.get(k, 0) - n
        self._running = dict(base)
        self.entries: list[dict[str, Any]] = [
            {
                "iteration": 0,
                "first": 0,
                "last": 0,
                "n_changes": 0,
                "source": "base",
                "title": "base data",
                "code": None,
                "started": None,
                "ops": [],
                "counts": {},
                "rows": int(sum(base.values())),
                "classes": {k: v for k, v in base.items() if v},
                "metrics": {},
            }
        ]
        self._stats: dict[int, dict[str, dict[str, Any]]] = {}
        self._totals: dict[int, dict[str, int]] = {}
        self._seen = 0
        self._extend(per_change, ops)
        self._read_metrics(h)

    def update(self, ds: Any) -> None:
        """Follow the dataset to its current version, reading only the new changes."""
        h = ds.history
        self.version = int(ds.version)
        self._log.refresh()
        if self._log.head > self._seen:
            head = self._log.head
            changes = h.store.raw_changes(self._seen + 1, head)
            ops = self._log.ops(self._seen + 1, head)
            self._extend([_change_counts(c, self.label) for c in changes], ops)
        self._read_metrics(h)

    def _extend(self, per_change: list[Any], ops: list[str]) -> None:
        """Add the changes after ``self._seen`` (their counts and ops, in order)."""
        owner = self._log.owners()
        its = {it.number: it for it in self._log.iterations}
        for (counts, cls), op in zip(per_change, ops, strict=True):
            v = self._seen + 1
            k_it = int(owner[v])
            st = self._stats.setdefault(k_it, {}).setdefault(op, {"op": op, "n": 0, "counts": {}})
            st["n"] += 1
            total = self._totals.setdefault(k_it, {})
            for k, n in counts.items():
                st["counts"][k] = st["counts"].get(k, 0) + n
                total[k] = total.get(k, 0) + n
            for k, n in cls.items():
                self._running[k] = self._running.get(k, 0) + n
            self._seen = v
            # the class counts at the end of the iteration (every iteration the new changes
            # touch ends at one of them: its last version is the newest read)
            if its[k_it].last_version == v:
                self._snapshot(its[k_it])
        self.owner = owner

    def _snapshot(self, it: Any) -> None:
        classes = dict(self._running)
        started = pd.Timestamp(it.started_ms, unit="ms", tz="UTC")
        entry = {
            "iteration": it.number,
            "first": it.first_version,
            "last": it.last_version,
            "n_changes": it.n_changes,
            "source": it.source,
            "title": _source_title(it),
            "code": it.code,
            "execution_count": it.execution_count,
            "cell_id": it.cell_id,
            "widget": it.widget,
            "started": started.isoformat(timespec="seconds"),
            "ops": list(self._stats.get(it.number, {}).values()),
            "counts": self._totals.get(it.number, {}),
            "rows": int(sum(classes.values())),
            "classes": {k: v for k, v in classes.items() if v},
            "metrics": {},
        }
        # entries[k] is iteration k; iterations interleave, so a later one may end first
        while len(self.entries) <= it.number:
            self.entries.append({"metrics": {}})
        entry["metrics"] = self.entries[it.number]["metrics"]
        self.entries[it.number] = entry

    def _read_metrics(self, h: Any) -> None:
        # metrics by iteration: the iteration of the version they were measured on
        metrics = self.metrics = h.metrics
        owner = self.owner
        by_it: dict[int, dict[str, float]] = {}
        for mv, name, value in zip(
            metrics["version"], metrics["name"], metrics["value"], strict=True
        ):
            if 0 <= int(mv) < len(owner):
                by_it.setdefault(int(owner[int(mv)]), {})[str(name)] = float(value)
        for k, e in enumerate(self.entries):
            e["metrics"] = by_it.get(k, {})

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, iteration: int) -> dict[str, Any]:
        if not 0 <= iteration < len(self.entries):
            raise ProtocolError(
                f"no iteration {iteration}; this history has iterations 0..{len(self.entries) - 1}"
            )
        return self.entries[iteration]

    def page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """Entries newest first, ``offset .. offset + limit``, as JSON."""
        n = len(self.entries)
        lo, hi = max(0, n - offset - limit), max(0, n - offset)
        out = []
        for e in reversed(self.entries[lo:hi]):
            code = e.get("code")
            out.append(
                {
                    "iteration": e["iteration"],
                    "first": e["first"],
                    "last": e["last"],
                    "n_changes": e["n_changes"],
                    "source": e["source"],
                    "title": e["title"],
                    "code": None if code is None else code[:CODE_CLAMP],
                    "code_clamped": bool(code and len(code) > CODE_CLAMP),
                    "started": e["started"],
                    "summary": _ops_text(e["ops"]),
                    "rows": e["rows"],
                    "metrics": {k: v for k, v in sorted(e["metrics"].items())},
                }
            )
        return out

    # ------------------------------------------------------------------ charts
    def chart(self, selected: int | None) -> Any:
        import altair as alt

        entries = self.entries
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
                color=alt.Color("class:N", title=self.label),
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
        m = self.metrics
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


def _source_title(row: Any) -> str:
    src = str(row.source)
    n = row.execution_count
    if src == "cell":
        return f"cell [{int(n)}]" if n is not None and not pd.isna(n) else "cell"
    if src == "widget":
        # the cell that displayed the widget (recorded since widget edits carry it)
        where = f" in cell [{int(n)}]" if n is not None and not pd.isna(n) else ""
        return f"{row.widget or 'widget'} session{where}"
    if src == "callback":
        return "widget callback"
    return {"api": "script", "cli": "command line", "recipe": "recipe replay"}.get(src, src)


def _ops_text(ops: list[dict[str, Any]]) -> str:
    parts = []
    for st in ops:
        kinds = ", ".join(f"{_KIND_WORDS.get(k, k)} {n}" for k, n in st["counts"].items())
        times = f" ×{st['n']}" if st["n"] > 1 else ""
        parts.append(f"{st['op']}{times}" + (f" ({kinds})" if kinds else ""))
    return " · ".join(parts)


def _rows_at(ds: Any, ids: np.ndarray, d: Any) -> pd.DataFrame:
    """Rows ``ids`` as they were at version ``d.b`` (rows gone by then: as at ``d.a``).

    Read from the current rows and the diff back to ``d.b`` (no checkout of the whole data:
    its cost follows the rows touched since, not the dataset size).
    """
    back = ds.history.diff(ds.version, d.b)  # what going back to b changes
    now = set(np.asarray(ds.ids).tolist())
    at_b_only = set(back.added.index.tolist())  # rows that existed at b, gone now
    cur_ids = [int(i) for i in ids if int(i) in now and int(i) not in set(back.removed.index)]
    parts = []
    if cur_ids:
        cur = ds.take(cur_ids)
        for i, new in zip(back.relabeled.index, back.relabeled["new"], strict=True):
            if i in cur.index:
                cur.at[i, ds.label] = new
        for i, c, new in zip(
            back.modified["sample_id"], back.modified["column"], back.modified["new"], strict=True
        ):
            if i in cur.index:
                cur.at[i, c] = new
        parts.append(cur)
    old_ids = [int(i) for i in ids if int(i) in at_b_only]
    if old_ids:
        parts.append(back.added.loc[old_ids])
    gone = [int(i) for i in ids if int(i) not in set(cur_ids) | set(old_ids)]
    if gone:
        parts.append(d.removed.loc[[i for i in gone if i in d.removed.index]])
    frame = pd.concat(parts) if len(parts) > 1 else parts[0]
    return frame.loc[[i for i in ids.tolist() if i in frame.index]]


class _PreviewGrid(SampleGrid):
    """A SampleGrid of a diff preview: paging only, every edit refused with what to do."""

    _widget_name = "HistoryPreview"

    def _handlers(self) -> dict[str, Any]:
        handlers = dict(super()._handlers())

        def refuse(msg: dict[str, Any]) -> dict[str, Any]:
            raise ProtocolError(
                "this is a read-only preview of a past version: edit the dataset in its own "
                "grid or editor, or use 'Revert to here'"
            )

        return {k: (v if k == "page" else refuse) for k, v in handlers.items()}


class HistoryTimeline(DatasetWidget):
    """The timeline part of :class:`HistoryView` (an anywidget paged from the kernel).

    Requests: ``{"type": "page", "offset", "limit"}`` (newest first), ``{"type": "select",
    "iteration"}``, ``{"type": "select_version", "version"}`` (a click on a chart mark),
    ``{"type": "revert", "iteration"}``, ``{"type": "code", "iteration"}``.
    """

    _esm = static_asset("history_view.js", MISSING_FRONT_END)
    _css = static_asset("widgets.css", "")
    _widget_name = "HistoryView"

    n_iterations = t.Int(0, help="Iterations, the base data included").tag(sync=True)
    selected = t.Int(-1, help="The selected iteration (-1: none)").tag(sync=True)
    page_size = t.Int(PAGE).tag(sync=True)
    preview_text = t.Unicode("", help="What the preview shows").tag(sync=True)
    last_action = t.Unicode("", help="The last revert done from this view").tag(sync=True)

    def __init__(self, ds: Any, *, on_select: Callable[[int], None] | None = None) -> None:
        self._summary_lock = threading.Lock()
        self._summary: _Summary | None = None
        self._on_select = on_select
        summary = self._get_summary(ds)
        super().__init__(ds, n_iterations=len(summary))

    def _rebind(self, old: Any, new: Any) -> None:
        with self._summary_lock:
            self._summary = None  # read again from the newer Dataset

    def _get_summary(self, ds: Any | None = None) -> _Summary:
        ds = ds if ds is not None else self._ds
        with self._summary_lock:
            s = self._summary
            if s is None:
                s = self._summary = _Summary(ds)
            elif s.version != int(ds.version):
                s.update(ds)  # reads only the changes since the last update
            return s

    @property
    def summary(self) -> _Summary:
        return self._get_summary()

    def _on_change(self, change: Any) -> None:
        n = len(self._get_summary())
        if self.n_iterations != n:
            self.n_iterations = n

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "page": self._on_page,
            "select": self._on_select_msg,
            "select_version": self._on_select_version,
            "revert": self._on_revert,
            "code": self._on_code,
        }

    @staticmethod
    def _int(msg: dict[str, Any], key: str, default: int | None = None) -> int:
        v = msg.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int):
            raise ProtocolError(f"malformed request: {key} must be an integer, got {v!r}")
        return v

    def _on_page(self, msg: dict[str, Any]) -> dict[str, Any]:
        offset = self._int(msg, "offset", 0)
        limit = self._int(msg, "limit", PAGE)
        if offset < 0 or not 1 <= limit <= MAX_PAGE:
            raise ProtocolError(f"malformed request: offset >= 0 and limit 1..{MAX_PAGE}")
        s = self._get_summary()
        return {
            "type": "page",
            "version": s.version,
            "offset": offset,
            "total": len(s),
            "items": s.page(offset, limit),
        }

    def _on_select_msg(self, msg: dict[str, Any]) -> dict[str, Any]:
        k = self._int(msg, "iteration")
        self.summary.entry(k)  # ProtocolError for an unknown iteration
        self.select(k)
        return {"type": "ok", "op": "select", "iteration": k, "preview": self.preview_text}

    def _on_select_version(self, msg: dict[str, Any]) -> dict[str, Any]:
        v = self._int(msg, "version")
        s = self.summary
        if not 0 <= v < len(s.owner):
            raise ProtocolError(f"no iteration holds version {v} (versions 0..{s.version})")
        k = int(s.owner[v])
        self.select(k)
        return {"type": "ok", "op": "select", "iteration": k, "preview": self.preview_text}

    def select(self, iteration: int) -> None:
        """Select ``iteration`` (0 = the base data): the view previews its diff."""
        self.summary.entry(iteration)
        with self._lock:
            self.selected = int(iteration)
        if self._on_select is not None:
            self._on_select(int(iteration))

    def set_preview_text(self, text: str) -> None:
        """Say what the preview shows (the view does when an iteration is selected)."""
        with self._lock:
            self.preview_text = text

    def _on_revert(self, msg: dict[str, Any]) -> dict[str, Any]:
        k = self._int(msg, "iteration")
        e = self.summary.entry(k)
        with self._widget_source():
            version = self._ds.revert_to(e["last"], reason=f"HistoryView: revert to iteration {k}")
        text = f"reverted to iteration {k} (version {e['last']}) as version {version}"
        with self._lock:
            self.last_action = text
        return {"type": "ok", "op": "revert", "version": int(version), "iteration": k, "text": text}

    def _on_code(self, msg: dict[str, Any]) -> dict[str, Any]:
        k = self._int(msg, "iteration")
        return {
            "type": "ok",
            "op": "code",
            "iteration": k,
            "code": self.summary.entry(k).get("code"),
        }


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
        bundle, meta = s.chart(sel if sel >= 0 else None)._repr_mimebundle_()
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
            grid, note = self._preview_grid(d)
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

    def _preview_grid(self, d: Any) -> tuple[SampleGrid | None, str]:
        summary = d.summary()
        if len(summary) == 0:
            return None, ""
        note = ""
        if len(summary) > PREVIEW_ROWS:
            note = f" (preview shows the first {PREVIEW_ROWS} of {len(summary)} rows)"
            summary = summary.iloc[:PREVIEW_ROWS]
        ds = self._ds
        ids = summary.index.to_numpy()
        frame = _rows_at(ds, ids, d)
        change = []
        for _, r in summary.iterrows():
            words = []
            for kind in r["change"].split("+"):
                if kind == "relabeled":
                    words.append(f"relabeled {r['old_label']} → {r['new_label']}")
                elif kind == "modified":
                    words.append("modified " + ", ".join(r["columns"]))
                else:
                    words.append(kind)
            change.append("; ".join(words))
        findings_frame = pd.DataFrame(
            {"change": change, "score": np.ones(len(ids)), "flag": np.ones(len(ids), dtype=bool)},
            index=pd.Index(ids, name=frame.index.name),
        )
        preview_ds = CoreDataset(
            frame,
            label=ds.label,
            features=[c for c in ds.feature_columns if c in frame.columns],
            image=ds.image_column,
            text=ds.text_column,
        )
        findings = Findings(
            findings_frame,
            op="history_diff",
            roles={"score": "score", "flag": "flag", "reason": "change"},
            action="review",
            version=d.b,
        )
        return _PreviewGrid(preview_ds, findings=findings, height=self._preview_height), note

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
