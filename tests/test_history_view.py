"""HistoryView kernel side: paged timeline, iterations and metrics, preview, revert, charts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj
from dcai_jupyter._charts import VEGALITE_MIME, OfflineChart, offline_chart
from dcai_jupyter.core._provenance import widget_source


def _ds(n: int = 40) -> dj.Dataset:
    df = pd.DataFrame(
        {"x": np.arange(n, dtype=float), "y": [["a", "b", "c"][i % 3] for i in range(n)]}
    )
    return dj.Dataset(df, label="y")


def _msg(widget, **content):
    content.setdefault("request_id", "r")
    return widget.handle_message(content)


def _sessions(ds: dj.Dataset, k: int, per: int) -> None:
    """``k`` iterations of ``per`` one-row relabels each (widget sessions, as in a notebook)."""
    ids = ds.ids.tolist()
    for s in range(k):
        with widget_source(f"session{s}"):
            for j in range(per):
                i = ids[(s * per + j) % len(ids)]
                cur = ds.df.at[i, "y"]
                ds.relabel([i], ["b" if cur == "a" else "a"])


def test_timeline_pages_newest_first_with_ops_sources_and_metrics():
    ds = _ds()
    ds.history.record_metrics(0, {"accuracy": 0.5})
    ds.relabel([0, 1], ["b", "c"])
    ds.remove([5])
    ds.history.record_metrics(ds.version, {"accuracy": 0.6, "macro_f1": 0.55})
    _sessions(ds, 3, 2)
    view = dj.HistoryView(ds)
    tl = view.timeline
    assert tl.n_iterations == 5  # base + script + 3 widget sessions
    page = _msg(tl, type="page", offset=0, limit=2)
    assert page["total"] == 5 and [e["iteration"] for e in page["items"]] == [4, 3]
    assert page["items"][0]["title"] == "session2 session"
    older = _msg(tl, type="page", offset=3, limit=2)
    assert [e["iteration"] for e in older["items"]] == [1, 0]
    script, base = older["items"]
    assert script["summary"] == "relabel (relabeled 2) · remove (removed 1)"
    assert script["metrics"] == {"accuracy": 0.6, "macro_f1": 0.55}
    assert (base["rows"], base["metrics"]) == (40, {"accuracy": 0.5})
    assert script["rows"] == 39
    for bad in ({"offset": -1}, {"limit": 0}, {"limit": 10_000}, {"offset": "1"}):
        assert _msg(tl, type="page", **bad)["type"] == "error"


def test_selecting_previews_the_diff_read_only_and_revert_is_one_change():
    ds = _ds()
    ds.relabel([0, 1], ["b", "c"])
    ds.remove([5])
    ds.update([7], "x", [70.0])
    view = dj.HistoryView(ds)
    tl = view.timeline
    ans = _msg(tl, type="select", iteration=1)
    assert ans["type"] == "ok" and "relabeled 2" in ans["preview"]
    assert view.preview_diff.counts() == {"added": 0, "removed": 1, "relabeled": 2, "modified": 1}
    rows = _msg(view.preview, type="page", offset=0, limit=50)
    assert rows["ids"] == [0, 1, 5, 7]
    assert rows["columns"]["change"] == [
        "relabeled a → b",
        "relabeled b → c",
        "removed",
        "modified x",
    ]
    # the preview is read-only, with what to do instead; the dataset is untouched
    v = ds.version
    refused = _msg(view.preview, type="relabel", ids=[0], label="a")
    assert refused["type"] == "error" and "read-only preview" in refused["message"]
    assert ds.version == v
    assert _msg(tl, type="select", iteration=9)["type"] == "error"

    # revert to the base: one new recorded change, state equal to version 0
    ans = _msg(tl, type="revert", iteration=0)
    assert ans["type"] == "ok" and ds.version == v + 1
    assert ds.history.changes["op"].iloc[-1] == "revert"
    assert ds.history.changes["source"].iloc[-1] == "widget"
    assert ds.df.equals(ds.checkout(0))
    assert tl.n_iterations == 3  # the revert is a new iteration (the HistoryView session)
    # the Python side does the same
    view.select(1)
    assert view.revert_to_selected() == ds.version
    assert ds.df.equals(ds.checkout(ds.version - 2))


def test_a_long_history_ships_one_page_and_small_charts():
    ds = _ds(200)
    _sessions(ds, 150, 4)  # 600 changes in 150 iterations
    ds.history.record_metrics(ds.version, {"accuracy": 0.8})
    view = dj.HistoryView(ds)
    page = _msg(view.timeline, type="page", offset=0, limit=50)
    assert len(page["items"]) == 50 and page["total"] == 151
    assert len(json.dumps(page)) < 30_000
    data = view.charts.outputs[0]["data"]
    assert VEGALITE_MIME in data
    spec = data[VEGALITE_MIME]
    assert spec["$schema"].endswith("/vega-lite/v5.json")
    assert len(json.dumps(spec)) < 100_000  # sampled to at most 120 iterations per chart
    # the state synced to the browser holds no history rows
    state = view.timeline.get_state()
    assert len(json.dumps({k: v for k, v in state.items() if k not in ("_esm", "_css")})) < 5_000


def test_offline_chart_shows_a_vega_lite_5_spec_and_keeps_the_altair_chart():
    import altair as alt

    chart = alt.Chart(pd.DataFrame({"a": [1, 2]})).mark_bar().encode(x="a:Q").properties(title="t")
    oc = offline_chart(chart)
    assert isinstance(oc, OfflineChart) and offline_chart(oc) is oc and oc.chart is chart
    bundle, meta = oc._repr_mimebundle_()
    assert bundle[VEGALITE_MIME]["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    assert meta[VEGALITE_MIME]["embed_options"]["renderer"] == "svg"
    assert oc.to_dict()["mark"]["type"] == "bar"  # the chart's own API
    with pytest.raises(TypeError, match="altair chart"):
        offline_chart({"mark": "bar"})


def test_interleaved_widget_sessions_count_each_change_once():
    ds = _ds()
    with widget_source("A"):
        ds.relabel([0], ["b"])
    with widget_source("B"):
        ds.remove([1, 2])
    with widget_source("A"):  # the same session as before: one iteration spanning B's
        ds.relabel([3], ["c"])
    ds.history.record_metrics(2, {"accuracy": 0.9})
    view = dj.HistoryView(ds)
    items = {
        e["iteration"]: e for e in _msg(view.timeline, type="page", offset=0, limit=10)["items"]
    }
    assert items[1]["summary"] == "relabel ×2 (relabeled 2)" and items[1]["rows"] == 38
    assert items[2]["summary"] == "remove (removed 2)" and items[2]["rows"] == 38
    assert items[2]["metrics"] == {"accuracy": 0.9} and items[1]["metrics"] == {}
    assert _msg(view.timeline, type="select_version", version=2)["iteration"] == 2


def test_the_preview_shows_rows_as_they_were_at_the_end_of_the_iteration():
    from dcai_jupyter.widgets._history_preview import rows_at as _rows_at

    ds = _ds()
    with widget_source("first"):
        ds.relabel([0, 1, 2], ["b", "c", "a"])
        ds.update([3], "x", [33.0])
        ds.remove([5])
    # later iterations change the same rows again
    ds.relabel([0], ["c"])
    ds.update([1], "x", [-1.0])
    ds.remove([2])
    ds.undo()  # 2 comes back
    ds.remove([3])
    d = ds.history.diff(0, 3)
    ids = np.asarray(d.ids)
    got = _rows_at(ds, ids, d)
    at_b = ds.checkout(3)
    want = pd.concat([at_b.loc[[i for i in ids if i in at_b.index]], d.removed]).loc[ids]
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def _axes(spec):
    """Every encoding channel of every view in a (v)concat/layer spec: [(channel, encoding)]."""
    out = []

    def walk(node):
        if isinstance(node, dict):
            for ch, enc in (node.get("encoding") or {}).items():
                out.append((ch, enc))
            for key in ("vconcat", "hconcat", "concat", "layer"):
                for sub in node.get(key, []):
                    walk(sub)

    walk(spec)
    return out


def test_charts_have_whole_version_ticks_a_sensible_metric_axis_and_no_background():
    ds = _ds()
    ds.relabel([0, 1], ["b", "c"])
    ds.remove([5])
    # one evaluated version: scores this close must not fill the axis (0.92264..0.92272)
    ds.history.record_metrics(ds.version, {"accuracy": 0.92272, "macro_f1": 0.92264})
    spec = dj.HistoryView(ds).charts.outputs[0]["data"][VEGALITE_MIME]
    xs = [enc for ch, enc in _axes(spec) if ch == "x" and enc.get("field") == "version"]
    assert len(xs) >= 3  # metrics, balance, churn (and the selected version's rule when shown)
    for enc in xs:
        if "axis" in enc:
            assert enc["axis"]["tickMinStep"] == 1 and enc["axis"]["format"] == "d"
            assert enc["scale"]["domain"] == [-0.5, 2.5]  # room for the bars at the ends
            # listed: JupyterLab's Vega ignores tickMinStep and ticked 0.5, 1.5 as "1", "2"
            assert enc["axis"]["values"] == [0, 1, 2]
    (churn_y,) = [
        enc for ch, enc in _axes(spec) if ch == "y" and enc.get("title") == "rows changed"
    ]
    assert all(isinstance(v, int) for v in churn_y["axis"]["values"])
    ys = [enc for ch, enc in _axes(spec) if ch == "y" and enc.get("field") == "value"]
    (y,) = ys
    lo, hi = y["scale"]["domain"]
    assert 0.0 <= lo < 0.92264 and 0.92272 < hi <= 1.0
    assert hi - lo >= 0.05  # equal scores look equal
    # dark theme: no background of its own, no dark text or white fill written into the spec
    assert spec["background"] == "transparent" and spec["config"]["background"] == "transparent"
    text = json.dumps(spec).lower()
    for colour in ('"#333"', '"#333333"', '"black"', '"#000"', '"white"', '"#fff"', '"#ffffff"'):
        assert colour not in text, colour


@pytest.mark.parametrize(
    ("values", "within"),
    [
        ([0.92264, 0.92272], (0.0, 1.0)),
        ([0.999, 1.0], (0.0, 1.0)),  # against the top: still 0.05 wide, inside 0..1
        ([0.0, 0.01], (0.0, 1.0)),
        ([0.5, 0.9], (0.0, 1.0)),
        ([3.0, 3.0], (2.9, 3.1)),  # not a rate (a loss): padded, not clamped
    ],
)
def test_metric_domain_is_wide_enough_padded_and_within_0_1_for_rates(values, within):
    from dcai_jupyter.widgets._history_charts import METRIC_MIN_SPAN, _metric_domain

    lo, hi = _metric_domain(values)
    assert lo <= min(values) and max(values) <= hi
    assert hi - lo >= METRIC_MIN_SPAN - 1e-12
    assert within[0] <= lo and hi <= within[1]


def test_whole_ticks_are_whole_numbers_few_and_evenly_stepped():
    from dcai_jupyter.widgets._history_charts import _whole_ticks

    assert _whole_ticks(0, 2) == [0, 1, 2]
    assert _whole_ticks(3, 5) == [3, 4, 5]
    assert _whole_ticks(0, 17) == [0, 5, 10, 15]
    assert _whole_ticks(7, 1234) == [200, 400, 600, 800, 1000, 1200]
    assert _whole_ticks(0, 40, most=4) == [0, 10, 20, 30, 40]
