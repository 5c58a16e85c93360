"""HistoryView and offline charts in a real JupyterLab with the network closed.

Chromium resolves no name but 127.0.0.1 (``--host-resolver-rules``, see labharness): a chart
that needed a CDN would show "Error loading script" instead of marks.
"""

from __future__ import annotations

import nbcode
import pytest
from labharness import wait_until

pytestmark = pytest.mark.ui

WORK = """\
ds.relabel([0, 1, 2], ["dog", "dog", "bird"])
ds.history.record_metrics(ds.version, {"accuracy": 0.71, "macro_f1": 0.69})
"""
WORK2 = """\
ds.remove([5, 6])
ds.history.record_metrics(ds.version, {"accuracy": 0.74, "macro_f1": 0.72})
"""
VIEW = "view = dj.HistoryView(ds)\nview"

# marks of the SVG charts inside the view (vega draws them as paths / rects / symbols)
_MARKS_JS = """(root) => {
    const svgs = [...root.querySelectorAll('svg')];
    const marks = svgs.flatMap(s => [...s.querySelectorAll('g.mark-area path, g.mark-rect path,'
        + ' g.mark-line path, g.mark-symbol path, g.mark-text text')]);
    return {svgs: svgs.length, marks: marks.length, text: root.innerText};
}"""


def _charts(page):
    return page.locator(".dcai-history-charts")


def test_history_view_renders_iterations_and_charts_offline_previews_and_reverts(notebook):
    nb = notebook([nbcode.dataset(60), WORK, WORK2, VIEW])
    page = nb.page
    view = page.get_by_test_id("history-view")
    view.wait_for()
    items = view.get_by_test_id("history-item")
    wait_until(lambda: items.count() == 3, 20, "3 timeline entries (base + 2 cells)")
    # newest first: the cell that removed 2 rows, then the relabel cell, then the base
    assert [items.nth(i).get_attribute("data-iteration") for i in range(3)] == ["2", "1", "0"]
    first = items.nth(0)
    assert "cell [3]" in first.get_by_test_id("history-source").inner_text()
    assert "removed 2" in first.get_by_test_id("history-ops").inner_text()
    assert "accuracy 0.7400" in first.get_by_test_id("history-metrics").inner_text()
    assert "ds.remove([5, 6])" in first.inner_text()  # the cell's code

    # the charts: SVG marks drawn by the notebook's own renderer, no network, no error text
    charts = _charts(page)
    wait_until(
        lambda: charts.evaluate(_MARKS_JS)["marks"] >= 3,
        30,
        "chart marks in the history view",
        describe=lambda: str(charts.evaluate(_MARKS_JS)),
    )
    got = charts.evaluate(_MARKS_JS)
    assert got["svgs"] >= 1
    assert "Error" not in got["text"] and "error" not in got["text"].lower()

    # clicking a mark of the charts (a churn bar of version 1) selects its iteration
    bar = charts.locator('g.mark-rect path[aria-label*="version: 1;"]').first
    bar.wait_for()
    bar.click(force=True)
    assert nb.kernel.wait_for("view.timeline.selected == 1", what="chart click selects iteration 1")

    # clicking an iteration previews that version: its diff in a grid of the touched rows
    preview = view.get_by_test_id("history-preview-text")
    items.nth(0).click()
    assert nb.kernel.wait_for("view.timeline.selected == 2", what="list click selects iteration 2")
    # the preview of iteration 2 arrives before the next click: otherwise the text of iteration 1
    # (from the chart click) would still be on screen and pass the wait below too early
    wait_until(
        lambda: "removed" in preview.inner_text(), 20, "preview text of iteration 2",
        describe=lambda: preview.inner_text(),
    )  # fmt: skip
    wait_until(lambda: items.nth(0).get_attribute("aria-selected") == "true", 20, "item 2 selected")
    items.nth(1).click()
    wait_until(
        lambda: "relabeled" in preview.inner_text(), 20, "preview text of iteration 1",
        describe=lambda: preview.inner_text(),
    )  # fmt: skip
    wait_until(lambda: items.nth(1).get_attribute("aria-selected") == "true", 20, "item 1 selected")
    assert nb.kernel.wait_for("view.timeline.selected == 1", what="selected in the kernel")
    grid = page.get_by_test_id("dcai-grid")
    grid.wait_for()
    touched = nb.kernel.eval("sorted(view.preview_diff.ids)")
    assert touched and set(touched) <= {0, 1, 2}
    wait_until(
        lambda: all(
            grid.locator(f'[data-testid="grid-row"][data-id="{i}"]').count() for i in touched
        ),
        20,
        f"preview grid rows {touched}",
    )

    # revert to here: one recorded change, back to the end of iteration 1
    v0 = nb.kernel.eval("ds.version")
    fp1 = nb.kernel.eval("ds.checkout(1).equals(ds.df)")
    assert fp1 is False
    view.get_by_test_id("history-revert").click()
    assert nb.kernel.wait_for(f"ds.version == {v0 + 1}", what="one revert recorded")
    assert nb.kernel.eval("ds.history.changes.op.iloc[-1]") == "revert"
    assert nb.kernel.eval("ds.history.changes.source.iloc[-1]") == "widget"
    assert nb.kernel.eval("ds.checkout(1).equals(ds.df)") is True
    # the view follows: a new entry (the HistoryView session) at the top
    wait_until(lambda: items.count() == 4, 20, "the revert shows as a new iteration")
    assert "HistoryView session" in items.nth(0).get_by_test_id("history-source").inner_text()


def test_label_issue_chart_renders_with_no_network(notebook):
    nb = notebook(
        [
            nbcode.dataset(90),
            nbcode.issues(12),
            # the chart maker's own result, as a person shows it (the last line of a cell)
            "dj.label_issue_chart(issues)",
        ]
    )
    page = nb.page
    out = page.locator(".jp-OutputArea-output").filter(has=page.locator("svg")).first
    out.wait_for(timeout=30_000)
    got = out.evaluate(_MARKS_JS)
    assert got["marks"] >= 1, got
    assert "Error loading script" not in page.locator(".jp-Notebook").inner_text()
