"""SampleGrid in a real JupyterLab: paging, scrolling, sorting, filters, edits, escaping, scale."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import nbcode
import pytest
from labharness import wait_until
from nbcode import CLASSES, XSS, XSS_FLAG, XSS_SCRIPT
from uidom import (
    cell,
    cell_text,
    editor_root,
    grid_root,
    header,
    option_texts,
    rendered_ids,
    row,
    scroll_to,
    selected_label,
    status_numbers,
    wait_aria_sort,
    wait_rows,
    wait_status,
)

pytestmark = pytest.mark.ui

OUT = Path(__file__).resolve().parents[2] / "benchmarks" / "_out"


def _is_slice(ids: list[int], all_ids: list[int]) -> bool:
    """``ids`` is a contiguous run of ``all_ids``."""
    if not ids:
        return False
    try:
        start = all_ids.index(ids[0])
    except ValueError:
        return False
    return all_ids[start : start + len(ids)] == ids


def _values(nb, ids: list[int], cols: list[str]) -> dict[int, list[str]]:
    raw = nb.kernel.eval(
        f"{{int(k): [str(v) for v in r] for k, r in ds.take({ids!r}, {cols!r}).iterrows()}}"
    )
    return {int(k): v for k, v in raw.items()}


def test_grid_renders_first_page(notebook):
    nb = notebook([nbcode.dataset(500), nbcode.GRID])
    grid = grid_root(nb.page)
    version = nb.kernel.eval("ds.version")
    wait_status(grid, rows=500, version=version)
    for col in ("n", "x", "text", "label"):
        assert header(grid, col).count() == 1, f'no [data-testid="header"][data-col="{col}"]'
    ids = wait_rows(grid, lambda ids: ids[0] == 0, "the first row (id 0) to render")
    all_ids = nb.kernel.eval("ds.ids.tolist()")
    assert ids == all_ids[: len(ids)], "visible rows are not the dataset's first rows in order"
    in_dom = rendered_ids(grid)
    assert 5 <= len(ids) and len(in_dom) < 500, f"{len(ids)} visible, {len(in_dom)} in the DOM"
    expect = _values(nb, ids, ["n", "text", "label"])
    for i in ids:
        n, text, label = expect[i]
        assert cell_text(grid, i, "n") == n
        assert cell_text(grid, i, "text") == text
        assert selected_label(grid, i) == label
    assert option_texts(grid, ids[0]) == CLASSES
    print(f"\n[ui] first page: {len(ids)} rows visible, {len(in_dom)} rows in the DOM")


def test_grid_scrolling_fetches_further_rows(notebook):
    nb = notebook([nbcode.dataset(3000), nbcode.GRID])
    grid = grid_root(nb.page)
    wait_status(grid, rows=3000)
    first = wait_rows(grid, lambda ids: ids[0] == 0, "the first row to render")
    all_ids = nb.kernel.eval("ds.ids.tolist()")
    assert all_ids[-1] not in rendered_ids(grid), "the last row is in the DOM before scrolling"

    # a real mouse wheel over the scroll container
    grid.get_by_test_id("grid-scroll").hover()
    nb.page.mouse.wheel(0, 1500)
    moved = wait_rows(
        grid,
        lambda ids: ids[0] > first[-1] and _is_slice(ids, all_ids),
        "rows below the first page after a wheel scroll",
    )
    for i, (n, label) in _values(nb, moved, ["n", "label"]).items():
        assert cell_text(grid, i, "n") == n
        assert selected_label(grid, i) == label

    scroll_to(grid, 0.5)
    middle = wait_rows(
        grid,
        lambda ids: _is_slice(ids, all_ids) and 1000 < all_ids.index(ids[0]) < 2000,
        "rows from the middle after scrolling to 50 %",
    )
    scroll_to(grid, 1.0)
    last = wait_rows(grid, lambda ids: ids[-1] == all_ids[-1], "the last row after scrolling down")
    assert _is_slice(last, all_ids)
    assert 0 not in rendered_ids(grid), "row 0 still in the DOM at the bottom (not virtual)"
    for i, (n, text) in _values(nb, last, ["n", "text"]).items():
        assert cell_text(grid, i, "n") == n
        assert cell_text(grid, i, "text") == text
    print(
        f"\n[ui] scrolled: wheel -> {moved[:3]}..., middle -> {middle[:3]}..., end -> {last[-3:]}"
    )


def test_grid_sort_by_label_quality(notebook):
    nb = notebook([nbcode.dataset(500), nbcode.issues(16), nbcode.GRID_ISSUES])
    grid = grid_root(nb.page)
    wait_status(grid, rows=500)
    for col in ("suggested_label", "label_quality"):
        assert header(grid, col).count() == 1, f'no [data-testid="header"][data-col="{col}"]'
    asc = nb.kernel.eval('issues.sort_values("label_quality").index[:100].tolist()')

    header(grid, "label_quality").click()
    wait_aria_sort(grid, "label_quality", "ascending")
    ids = wait_rows(grid, lambda ids: ids == asc[: len(ids)], "rows by label_quality ascending")
    sugg = nb.kernel.eval(f"issues.loc[{ids!r}, 'suggested_label'].tolist()")
    for i, s in zip(ids, sugg, strict=True):
        assert cell_text(grid, i, "suggested_label") == s
    qualities = [float(cell_text(grid, i, "label_quality")) for i in ids]
    assert qualities == sorted(qualities), f"label_quality cells not ascending: {qualities}"

    header(grid, "label_quality").click()
    wait_aria_sort(grid, "label_quality", "descending")
    desc = nb.kernel.eval(
        'issues.sort_values("label_quality", ascending=False).index[:100].tolist()'
    )
    wait_rows(grid, lambda ids: ids == desc[: len(ids)], "rows by label_quality descending")
    wait_status(grid, rows=500)


def test_grid_filters(notebook):
    nb = notebook([nbcode.dataset(500), nbcode.issues(16), nbcode.GRID_ISSUES])
    page, grid = nb.page, grid_root(nb.page)
    wait_status(grid, rows=500)

    flt = grid.get_by_test_id("filter-label")
    first_value = flt.evaluate("s => s.options[0].value")
    assert first_value == "", f'first option of filter-label has value {first_value!r}, not ""'
    dog = flt.evaluate("s => [...s.options].find(o => o.text.includes('dog'))?.value")
    assert dog is not None, "no 'dog' option in filter-label"
    flt.select_option(value=dog)
    n_dog = nb.kernel.eval("int((ds.column('label') == 'dog').sum())")
    wait_status(grid, rows=n_dog)
    ids = wait_rows(grid, lambda ids: True, "rows after the label filter")
    assert all(selected_label(grid, i) == "dog" for i in ids)
    flt.select_option(value="")
    wait_status(grid, rows=500)

    grid.get_by_test_id("filter-issues").check()
    wait_status(grid, rows=16)
    flagged = set(nb.kernel.eval("issues.index[issues.is_issue].tolist()"))
    ids = wait_rows(grid, lambda ids: set(ids) <= flagged, "only flagged rows")
    grid.get_by_test_id("filter-issues").uncheck()
    wait_status(grid, rows=500)

    grid.get_by_test_id("filter-text").fill("sample 12")
    n_text = nb.kernel.eval("int(ds.df['text'].str.contains('sample 12', regex=False).sum())")
    wait_status(grid, rows=n_text)
    ids = wait_rows(grid, lambda ids: True, "rows after the text filter")
    assert all("sample 12" in cell_text(grid, i, "text") for i in ids)
    page.keyboard.press("Escape")


def test_a_kept_filter_on_a_label_no_longer_among_the_classes_opens_on_all_rows(notebook):
    """A grid's kept query (a reloaded page, the grid shown again) may filter on a label that a
    relabel has since made disappear: the grid opens on every row with "all labels", instead
    of failing to appear (the filter's reset used to clear a viewport not built yet)."""
    code = "grid = dj.SampleGrid(ds)\ngrid.query = {'filter': {'label': 'no-such-label'}}\ngrid"
    nb = notebook([nbcode.dataset(120), code])
    grid = grid_root(nb.page)
    wait_status(grid, rows=120)
    assert grid.get_by_test_id("filter-label").evaluate("s => s.selectedIndex") == 0
    wait_rows(grid, lambda ids: len(ids) > 0, "rows of the unfiltered grid")
    assert nb.kernel.eval("grid.query['filter'].get('label')") is None


def test_selection_synced_to_kernel(notebook):
    """Click selects a row, Ctrl+click adds one (the usual convention; the contract names only
    the synced ``selected_ids`` trait); the selection reaches ``grid.selected_ids``."""
    nb = notebook([nbcode.dataset(500), nbcode.GRID])
    grid = grid_root(nb.page)
    wait_status(grid, rows=500)
    wait_rows(grid, lambda ids: 2 in ids and 5 in ids, "rows 2 and 5")
    row(grid, 2).locator('[data-testid="cell"][data-col="n"]').click()
    nb.kernel.wait_for("sorted(grid.selected_ids) == [2]", what="selected_ids == [2]")
    row(grid, 5).locator('[data-testid="cell"][data-col="text"]').click(modifiers=["Control"])
    nb.kernel.wait_for("sorted(grid.selected_ids) == [2, 5]", what="selected_ids == [2, 5]")
    assert nb.kernel.eval("ds.version") == 0, "selecting rows changed the dataset"


def test_inline_label_edit_reaches_kernel(notebook):
    nb = notebook([nbcode.dataset(500), nbcode.GRID])
    grid = grid_root(nb.page)
    v0 = nb.kernel.eval("ds.version")
    wait_status(grid, rows=500, version=v0)
    wait_rows(grid, lambda ids: 3 in ids and 4 in ids, "rows 3 and 4")

    # 1. the dropdown
    old = nb.kernel.eval("str(ds.take([3])['label'].iloc[0])")
    new = CLASSES[(CLASSES.index(old) + 1) % len(CLASSES)]
    row(grid, 3).get_by_test_id("label-select").select_option(label=new)
    nb.kernel.wait_for(
        f"ds.take([3])['label'].iloc[0] == {new!r}", what="the relabel in the kernel"
    )
    last = nb.kernel.eval(
        "ds.history.changes.iloc[-1][['op', 'source', 'widget', 'ids', 'version']].tolist()"
    )
    assert last[:2] == ["relabel", "widget"], f"last change {last}"
    assert last[3] == [3], f"last change touched {last[3]}"
    assert last[4] == v0 + 1
    wait_status(grid, version=v0 + 1)
    wait_until(lambda: selected_label(grid, 3) == new, 10, "row 3 to show the new label")
    print(f"\n[ui] dropdown edit recorded: {last}")

    # 2. the keyboard: focus row 4 (click a plain cell of it) and press the digit of a class
    old4 = nb.kernel.eval("str(ds.take([4])['label'].iloc[0])")
    k = next(i for i, c in enumerate(CLASSES) if c != old4)
    row(grid, 4).locator('[data-testid="cell"][data-col="n"]').click()
    nb.page.keyboard.press(str(k + 1))
    nb.kernel.wait_for(
        f"ds.take([4])['label'].iloc[0] == {CLASSES[k]!r}",
        what="the key-press relabel in the kernel",
    )
    last = nb.kernel.eval("ds.history.changes.iloc[-1][['op', 'source', 'ids']].tolist()")
    assert last == ["relabel", "widget", [4]], f"last change {last}"
    wait_status(grid, version=v0 + 2)
    wait_until(lambda: selected_label(grid, 4) == CLASSES[k], 10, "row 4 to show the new label")
    n_widget = nb.kernel.eval("int((ds.history.changes.source == 'widget').sum())")
    assert n_widget == 2


def test_views_refresh_after_change(notebook):
    nb = notebook([nbcode.dataset(500), nbcode.GRID, "grid2 = dj.SampleGrid(ds)\ngrid2"])
    g1, g2 = grid_root(nb.page, 0), grid_root(nb.page, 1)
    v0 = nb.kernel.eval("ds.version")
    for g in (g1, g2):
        wait_status(g, rows=500, version=v0)
        wait_rows(g, lambda ids: 3 in ids and 5 in ids, "rows 3 and 5")
    old = selected_label(g1, 3)
    new = CLASSES[(CLASSES.index(old) + 1) % len(CLASSES)]
    row(g1, 3).get_by_test_id("label-select").select_option(label=new)
    for g in (g1, g2):
        wait_status(g, version=v0 + 1)
        wait_until(lambda g=g: selected_label(g, 3) == new, 10, "both views to show the edit")

    # a change made by code in the kernel (not by a widget) reaches both views
    old5 = selected_label(g1, 5)
    new5 = CLASSES[(CLASSES.index(old5) + 1) % len(CLASSES)]
    nb.kernel.run(f"ds.relabel([5], [{new5!r}])")
    for g in (g1, g2):
        wait_status(g, version=v0 + 2)
        wait_until(lambda g=g: selected_label(g, 5) == new5, 10, "both views to show the change")
    # removing a row: the row count and the rows shown follow
    nb.kernel.run("ds.remove([0])")
    for g in (g1, g2):
        wait_status(g, rows=499, version=v0 + 3)
        wait_rows(g, lambda ids: 0 not in ids and ids[0] == 1, "row 0 gone")


_RELABEL_JS = """async ({id, value, version, pace}) => {
    if (pace) await new Promise(r => setTimeout(r, pace));
    const root = document.querySelector('[data-testid="dcai-grid"]');
    const status = root.querySelector('[data-testid="grid-status"]');
    const sel = () => root.querySelector(
        `[data-testid="grid-row"][data-id="${id}"] [data-testid="label-select"]`);
    const s = sel();
    const opt = [...s.options].find(o => o.text === value);
    const done = () => {
        const cur = sel();
        return new RegExp(`\\\\bv${version}\\\\b`).test(status.textContent)
            && cur && cur.options[cur.selectedIndex].text === value;
    };
    const wall = Date.now();
    const t0 = performance.now();
    s.value = opt.value;
    s.dispatchEvent(new Event('input', {bubbles: true}));
    s.dispatchEvent(new Event('change', {bubbles: true}));
    await new Promise((resolve, reject) => {
        if (done()) { resolve(); return; }
        const obs = new MutationObserver(() => {
            if (done()) { obs.disconnect(); clearTimeout(timer); resolve(); }
        });
        obs.observe(root, {subtree: true, childList: true, characterData: true, attributes: true});
        const timer = setTimeout(() => { obs.disconnect(); reject(new Error(
            `no v${version} after 10 s: ${status.textContent}`)); }, 10000);
    });
    return {ms: performance.now() - t0, wall};
}"""


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(ms), 1),
        "p90": round(statistics.quantiles(ms, n=10)[-1], 1),
        "max": round(max(ms), 1),
    }


def test_relabel_latency(notebook):
    """Click-to-kernel-and-rerender latency of a relabel (target 150 ms): printed, not asserted.

    Two series of dropdown relabels: back to back (the next change starts the moment the
    previous one is re-rendered) and at a person's pace (one change every 300 ms: the pause is
    the workload being measured, not a wait for state). Each measurement runs in the page, from
    the change event to the moment the status line shows the kernel's new version and the row
    shows the new label; the kernel-side commit time comes from the history's timestamps.
    """
    nb = notebook([nbcode.dataset(500), nbcode.GRID])
    grid = grid_root(nb.page)
    v = nb.kernel.eval("ds.version")
    wait_status(grid, rows=500, version=v)
    ids = wait_rows(grid, lambda ids: len(ids) >= 6, "some rows")[:10]
    series: dict[str, list[float]] = {}
    walls: list[int] = []
    for k, (name, pace_ms) in enumerate((("back_to_back", 0), ("paced_300ms", 300))):
        series[name] = []
        for i in ids:
            old = selected_label(grid, i)
            new = CLASSES[(CLASSES.index(old) + 1 + k) % len(CLASSES)]
            v += 1
            r = nb.page.evaluate(
                _RELABEL_JS, {"id": i, "value": new, "version": v, "pace": pace_ms}
            )
            series[name].append(r["ms"])
            walls.append(r["wall"])
    n = len(walls)
    ch = nb.kernel.eval(
        f"[[s, int(t.value // 10**6)] for s, t in "
        f"zip(ds.history.changes.source.tail({n}), ds.history.changes.timestamp.tail({n}))]"
    )
    assert [s for s, _ in ch] == ["widget"] * n
    to_kernel = [t - w for (_, t), w in zip(ch, walls, strict=True)]
    result = {
        "what": "SampleGrid dropdown relabel, 500 rows, JupyterLab 4 + headless chromium, 2 cores",
        "target_ms": 150,
        "first_click_to_rerender_ms": round(series["back_to_back"][0], 1),
        "click_to_rerender_ms": {k: _summary(ms[1:]) for k, ms in series.items()},
        "click_to_kernel_commit_ms_median": statistics.median(to_kernel[1:]),
        "all_click_to_rerender_ms": {k: [round(x, 1) for x in ms] for k, ms in series.items()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ui_relabel_latency.json").write_text(json.dumps(result, indent=1))
    print(f"\n[ui] relabel latency: {json.dumps(result)}")


def test_xss_value_renders_as_text(notebook):
    cells = [
        f"""\
import numpy as np
import pandas as pd
import dcai_jupyter as dj

XSS = {XSS!r}
values = [XSS, {XSS_FLAG!r}, {XSS_SCRIPT!r}, "<b>bold</b>", "plain"]
df = pd.DataFrame({{
    "text": values * 4,
    "note": values[::-1] * 4,
    "label": ([XSS] + ["ok"] * 4) * 4,
}})
ds = dj.Dataset(df, label="label", classes=["ok", XSS], text="text", history=":memory:")
issues = dj.Findings(
    pd.DataFrame(
        {{
            "given_label": ds.column("label"),
            "suggested_label": ["ok" if v == XSS else XSS for v in ds.column("label")],
            "label_quality": np.linspace(0.01, 0.99, len(ds)),
            "score": np.linspace(0.99, 0.01, len(ds)),
            "is_issue": [True] * 3 + [False] * (len(ds) - 3),
            "reason": [XSS] * len(ds),
        }},
        index=pd.Index(ds.ids, name="sample_id"),
    ),
    op="label_issues",
    roles={{"score": "score", "flag": "is_issue", "suggestion": "suggested_label",
            "reason": "reason"}},
    action="relabel",
)
""",
        nbcode.GRID_ISSUES,
        "editor = dj.LabelEditor(ds, issues)\neditor",
    ]
    nb = notebook(cells)
    page = nb.page
    grid = grid_root(page)
    wait_status(grid, rows=20)
    # (a findings grid opens by score: rows 0-4 are somewhere among the 20)
    wait_rows(grid, lambda ids: {0, 1, 2, 3, 4} <= set(ids), "rows 0-4", visible_only=False)
    assert cell_text(grid, 0, "text") == XSS
    assert cell_text(grid, 0, "note") == "plain"
    assert cell_text(grid, 1, "text") == XSS_FLAG
    assert cell_text(grid, 2, "text") == XSS_SCRIPT
    assert cell_text(grid, 3, "text") == "<b>bold</b>"
    assert cell_text(grid, 4, "note") == XSS
    assert selected_label(grid, 0) == XSS
    assert XSS in option_texts(grid, 1)
    # shown as characters, visibly
    assert cell(grid, 0, "text").is_visible()
    assert cell(grid, 0, "text").get_by_text(XSS, exact=True).is_visible()
    editor = editor_root(page)
    assert editor.get_by_test_id("editor-given").inner_text().strip() == XSS
    assert editor.get_by_test_id("editor-suggested").inner_text().strip() == "ok"
    # nothing from the values became markup
    for root in (grid, editor):
        assert root.locator("img:not([data-testid='thumb'])").count() == 0
        assert root.locator("script").count() == 0
        assert root.locator("b", has_text="bold").count() == 0
    # a kernel round trip (a sort answered by the kernel) so that any injected handler had run
    header(grid, "label").click()
    wait_aria_sort(grid, "label", "ascending")
    assert page.evaluate("window.__dcai_xss === undefined"), "an injected handler ran"
    assert nb.dialogs == [], f"dialogs opened: {nb.dialogs}"
    assert page.locator("img[src='x']").count() == 0


def test_million_row_grid_renders_first_page(notebook):
    setup = f"""\
import numpy as np
import pandas as pd
import dcai_jupyter as dj

N = 1_000_000
rng = np.random.default_rng(0)
df = pd.DataFrame({{
    "n": np.arange(N, dtype=np.int64),
    "x": np.round(rng.normal(size=N), 3),
    "label": rng.choice({CLASSES!r}, N),
}})
ds = dj.Dataset(df, label="label", classes={CLASSES!r}, history=":memory:")
"""
    nb = notebook([setup, nbcode.GRID], run=False)
    t0 = time.perf_counter()
    nb.run_all(2, timeout=180)
    t_cells = time.perf_counter() - t0
    grid = grid_root(nb.page)
    wait_status(grid, rows=1_000_000, timeout=60)
    ids = wait_rows(grid, lambda ids: ids[0] == 0, "the first row of 1,000,000", timeout=60)
    t_first = time.perf_counter() - t0
    assert ids == list(range(len(ids)))
    assert len(rendered_ids(grid)) < 1000
    for i in ids[:5]:
        assert cell_text(grid, i, "n") == str(i)

    t1 = time.perf_counter()
    scroll_to(grid, 1.0)
    last = wait_rows(grid, lambda ids: ids[-1] == 999_999, "the last row", timeout=60)
    t_last = time.perf_counter() - t1
    assert last == list(range(last[0], 1_000_000))
    _, v = status_numbers(grid)
    print(
        f"\n[ui] 1M rows: cells ran in {t_cells:.2f} s, first page shown after {t_first:.2f} s, "
        f"last page {t_last:.2f} s after scrolling to the end (status v{v})"
    )


_FULLY_VISIBLE_TILES_JS = """(root) => {
    const vw = window.innerWidth, vh = window.innerHeight;
    const sc = root.querySelector('[data-testid="grid-scroll"]');
    const c = sc ? sc.getBoundingClientRect() : {top: 0, left: 0, bottom: vh, right: vw};
    const ids = [...root.querySelectorAll('[data-testid="tile"]')].filter(t => {
        const b = t.getBoundingClientRect();
        return b.width > 0 && b.top >= Math.max(0, c.top) - 1 && b.left >= Math.max(0, c.left) - 1
            && b.bottom <= Math.min(vh, c.bottom) + 1 && b.right <= Math.min(vw, c.right) + 1;
    }).map(t => t.dataset.id);
    const r = (x) => Math.round(x);
    return {ids, box: [r(c.left), r(c.top), r(c.right), r(c.bottom)], viewport: [vw, vh]};
}"""


def test_gallery_layout_shows_40_digits(notebook):
    setup = """\
import pandas as pd
import dcai_jupyter as dj
from sklearn.datasets import load_digits

digits = load_digits()
df = pd.DataFrame({"image": list(digits.images), "label": digits.target})
ds = dj.Dataset(df, label="label", history=":memory:")
grid = dj.SampleGrid(ds)
grid
"""
    nb = notebook([setup])
    grid = grid_root(nb.page)
    wait_status(grid, rows=1797)
    wait_rows(grid, lambda ids: ids[0] == 0, "the first row")
    thumb = row(grid, 0).get_by_test_id("thumb")
    wait_until(lambda: thumb.evaluate("i => i.complete && i.naturalWidth > 0"), 15, "a thumbnail")
    grid.get_by_test_id("layout-toggle").click()
    tiles = grid.get_by_test_id("tile")
    tiles.first.wait_for()
    # as a person would: the grid scrolled to the top of the notebook's view
    grid.evaluate("e => e.scrollIntoView({block: 'start'})")
    seen: dict[str, Any] = {}

    def enough() -> bool:
        seen.update(grid.evaluate(_FULLY_VISIBLE_TILES_JS))
        return len(seen["ids"]) >= 40

    try:
        wait_until(enough, 15, "40 fully visible digit tiles", describe=lambda: repr(seen))
    finally:
        print(
            f"\n[ui] gallery at 1280x900 in JupyterLab: {len(seen.get('ids', []))} tiles fully "
            f"visible (scroll box {seen.get('box')})"
        )
    visible = seen["ids"]
    labels = nb.kernel.eval(f"[str(v) for v in ds.take({[int(i) for i in visible]!r})['label']]")
    for tid, lab in list(zip(visible, labels, strict=True))[:10]:
        tile = grid.locator(f'[data-testid="tile"][data-id="{tid}"]')
        assert tile.get_by_test_id("tile-label").inner_text().strip() == lab


def test_gallery_marks_augmented_tiles(notebook):
    """Rows augmentation made carry an "augmented" badge on their gallery tile (their
    origin, from ds.origins); the sources do not."""
    setup = """\
import pandas as pd
import dcai_jupyter as dj
from sklearn.datasets import load_digits

digits = load_digits()
df = pd.DataFrame({"image": list(digits.images[:20]), "label": digits.target[:20]})
ds = dj.Dataset(df, label="label", history=":memory:")
made = [int(i) for i in ds.augment("shift", ids=[0, 1], random_state=0)]
grid = dj.SampleGrid(ds)
grid.mode = "gallery"
grid
"""
    nb = notebook([setup])
    grid = grid_root(nb.page)
    wait_status(grid, rows=22)
    made = nb.kernel.eval("made")
    assert len(made) == 2
    for tid in made:
        tile = grid.locator(f'[data-testid="tile"][data-id="{tid}"]')
        tile.scroll_into_view_if_needed()
        badge = tile.get_by_test_id("tile-origin")
        badge.wait_for()
        assert badge.inner_text().strip() == "augmented"
        assert "augmented:shift" in (badge.get_attribute("title") or "")
    source = grid.locator('[data-testid="tile"][data-id="0"]')
    source.scroll_into_view_if_needed()
    assert source.get_by_test_id("tile-origin").count() == 0
