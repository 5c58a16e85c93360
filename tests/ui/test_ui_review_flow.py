"""The review flow as a person uses it (issue 11): keys by class name, the editor's focus, a
view whose kernel is gone, fixing flagged digits by keyboard alone.

Cells are run with Shift+Enter (``LabNotebook.run_cell``), as a person runs them, so the
keyboard focus is wherever JupyterLab leaves it.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from labharness import LabNotebook, new_page, wait_until
from labrestart import restart_from_menu
from latency import ECHO_CELL, ECHO_JS, RELABEL_JS, pct
from uidom import editor_current, editor_progress, editor_root, grid_root, wait_status

pytestmark = pytest.mark.ui

N_DIGITS = 300


def digits(n_flagged: int, n: int = N_DIGITS) -> str:
    """A dataset ``ds`` labelled with the integers 0-9 (classes 0..9, as digits are) and
    label-issue ``Findings`` ``issues``: the ``n_flagged`` first samples flagged, each
    suggesting the next digit."""
    return f"""\
import numpy as np
import pandas as pd
import dcai_jupyter as dj

N = {n}
rng = np.random.default_rng(7)
df = pd.DataFrame({{"x": np.round(rng.normal(size=N), 2), "label": np.arange(N) % 10}})
ds = dj.Dataset(df, label="label", classes=list(range(10)), history=":memory:")
given = np.array(ds.column("label"))  # a copy: the labels as they were
flag = np.arange(N) < {n_flagged}
suggested = np.where(flag, (given + 1) % 10, given)
issues = dj.Findings(
    pd.DataFrame(
        {{"given_label": given, "suggested_label": suggested, "is_issue": flag,
          "score": np.where(flag, 1.0 - np.arange(N) / (10 * N), 0.0)}},
        index=pd.Index(ds.ids, name="sample_id"),
    ),
    op="label_issues",
    roles={{"score": "score", "flag": "is_issue", "suggestion": "suggested_label"}},
    action="relabel",
    version=ds.version,  # as ds.find_label_issues() stamps them
)
int(issues.is_issue.sum())
"""


def _focused(editor) -> bool:
    return bool(editor.evaluate("e => e.contains(document.activeElement)"))


def _wait_progress(editor, done: int, total: int, timeout: float = 30) -> None:
    wait_until(
        lambda: editor_progress(editor) == (done, total),
        timeout,
        f"editor-progress {done} / {total}",
        describe=lambda: editor.get_by_test_id("editor-progress").inner_text(),
    )


def test_digit_keys_pick_the_class_by_name_in_editor_and_gallery(notebook):
    """Defect 1: on digits, ``2`` records the label 2 (not the second class, 1), in the editor
    and on a focused gallery tile; the buttons and the help line say so."""
    nb: LabNotebook = notebook([digits(20)])
    nb.run_cell("editor = dj.LabelEditor(ds, issues)\neditor")
    editor = editor_root(nb.page)
    _wait_progress(editor, 0, 20)
    help_text = editor.get_by_test_id("editor-help").inner_text()
    assert "pick the class of that name" in help_text, help_text
    buttons = editor.get_by_test_id("editor-class")
    assert buttons.nth(2).inner_text().strip() == "2", buttons.nth(2).inner_text()
    editor.click(position={"x": 3, "y": 3})
    sid = editor_current(editor)
    given = nb.kernel.eval(f"int(ds.take([{sid}])['label'].iloc[0])")
    key = next(k for k in range(10) if k not in (given, (given + 1) % 10))
    nb.page.keyboard.press(str(key))
    _wait_progress(editor, 1, 20)
    nb.kernel.wait_for(f"int(ds.take([{sid}])['label'].iloc[0]) == {key}", what=f"label {key}")

    nb.run_cell("grid = dj.SampleGrid(ds, issues=issues, layout='gallery')\ngrid")
    grid = grid_root(nb.page)
    wait_status(grid, rows=N_DIGITS)
    assert "relabel the focused item to the class of that name" in (
        grid.get_by_test_id("grid-help").inner_text()
    )
    # findings open most suspicious first: take the first tile on screen not labeled 1
    tiles = grid.locator('[data-testid="tile"]')
    tiles.first.wait_for()
    shown = [int(t.get_attribute("data-id") or -1) for t in tiles.all()]
    labels = nb.kernel.eval(f"[int(v) for v in ds.take({shown})['label']]")
    target = next(i for i, lab in zip(shown, labels, strict=True) if lab != 1)
    tile = grid.locator(f'[data-testid="tile"][data-id="{target}"]')
    tile.scroll_into_view_if_needed()
    tile.click()
    nb.page.keyboard.press("1")
    nb.kernel.wait_for(f"int(ds.take([{target}])['label'].iloc[0]) == 1", what="tile label 1")
    wait_until(
        lambda: tile.get_by_test_id("tile-label").inner_text().strip() == "1",
        15,
        "the tile shows label 1",
    )


def test_fifty_flagged_digits_fixed_by_keyboard_alone(notebook):
    """Defect 3 and the keyboard target: once the editor is shown (its cell run with
    Shift+Enter), it has the keyboard focus; 50 presses of Enter fix 50 flagged digits, with
    no mouse and no wrong label. Clicking elsewhere shows the "click here to review" state."""
    nb: LabNotebook = notebook([digits(50)])
    nb.run_cell("editor = dj.LabelEditor(ds, issues)\neditor")
    page = nb.page
    editor = editor_root(page)
    _wait_progress(editor, 0, 50)
    wait_until(lambda: _focused(editor), 10, "the editor to have the keyboard focus")
    assert editor.get_by_test_id("editor-focus-hint").is_hidden()
    t0 = time.perf_counter()
    for _ in range(50):
        page.keyboard.press("Enter")
    _wait_progress(editor, 50, 50, timeout=120)
    took = time.perf_counter() - t0
    nb.kernel.wait_for(
        "int((ds.history.changes.source == 'widget').sum()) == 50", what="50 widget changes"
    )
    wrong = nb.kernel.eval(
        "[int(i) for i in issues.flagged.ids "
        "if ds.take([int(i)])['label'].iloc[0] != issues.at[int(i), 'suggested_label']]"
    )
    assert wrong == [], wrong
    assert nb.kernel.eval("int((ds.column('label') != given).sum())") == 50
    assert "Done" in editor.get_by_test_id("editor-done").inner_text()
    print(f"\n[ui] 50 Enter presses -> 50 relabels in {took:.1f} s")

    # focus elsewhere: the editor says so, and a click gives it back
    page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt").click()
    wait_until(lambda: not _focused(editor), 10, "the focus to leave the editor")
    hint = editor.get_by_test_id("editor-focus-hint")
    hint.wait_for(state="visible")
    assert re.search("click here to review", hint.inner_text(), re.I)
    hint.click()
    wait_until(lambda: _focused(editor), 10, "a click to give the editor the focus")
    assert hint.is_hidden()


def test_view_whose_kernel_is_gone_stays_disconnected(notebook):
    """Defect 4: after a restart, clicks, keys and scrolling do not turn a gone view back into
    a live-looking one (no "cannot reach the kernel" error, the banner stays)."""
    nb: LabNotebook = notebook([digits(20)])
    nb.run_cell("grid = dj.SampleGrid(ds, issues=issues)\ngrid")
    nb.run_cell("editor = dj.LabelEditor(ds, issues)\neditor")
    page = nb.page
    grid, editor = grid_root(page), editor_root(page)
    wait_status(grid, rows=N_DIGITS)
    _wait_progress(editor, 0, 20)
    restart_from_menu(nb)

    def gone(view, testid: str) -> bool:
        box = view.get_by_test_id(testid)
        return box.is_visible() and "kernel object is gone" in box.inner_text()

    wait_until(lambda: gone(grid, "grid-stale"), 25, "the grid's disconnected banner")
    wait_until(lambda: gone(editor, "editor-stale"), 25, "the editor's disconnected banner")

    # what a person does next: click a row, press keys, scroll, click the editor, press Enter
    grid.locator('[data-testid="grid-row"]').nth(2).click(position={"x": 5, "y": 5})
    page.keyboard.press("3")
    page.keyboard.press("ArrowDown")
    grid.get_by_test_id("grid-scroll").evaluate(
        "e => { e.scrollTop = e.scrollHeight; e.dispatchEvent(new Event('scroll')); }"
    )
    editor.click(position={"x": 3, "y": 3})
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowRight")
    # the views' own checks run every 0.5 s (health) and 4 s (heartbeat): give them time to
    # (wrongly) flip back, polling that they never do
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        assert gone(grid, "grid-stale"), grid.get_by_test_id("grid-stale").inner_text()
        assert gone(editor, "editor-stale"), editor.get_by_test_id("editor-stale").inner_text()
        assert grid.get_attribute("data-state") == "gone"
        assert editor.get_attribute("data-state") == "gone"
        for box in (grid.get_by_test_id("grid-error"), editor.get_by_test_id("editor-error")):
            assert not (box.is_visible() and "cannot reach" in box.inner_text()), box.inner_text()
        page.wait_for_timeout(500)
    assert "disconnected" in grid.get_by_test_id("grid-status").inner_text()


def test_resolved_findings_shown_filtered_and_skipped(notebook):
    """Defect 5: samples fixed since the findings were made (by a cell, or in the grid) show
    as resolved, not flagged; the counts follow live; the grid filters on the state; the
    editor made afterwards skips them and counts them."""
    nb: LabNotebook = notebook([digits(20), "ds.accept_suggestions(issues, top=3)"])
    nb.run_cell("grid = dj.SampleGrid(ds, issues=issues, layout='gallery')\ngrid")
    page = nb.page
    grid = grid_root(page)
    wait_status(grid, rows=N_DIGITS)

    def tile(sid: int):
        return grid.locator(f'[data-testid="tile"][data-id="{sid}"]')

    def status_has(text: str) -> None:  # the toolbar's counts
        wait_until(
            lambda: text in grid.get_by_test_id("grid-counts").inner_text(),
            20,
            f"grid-counts with {text!r}",
            describe=lambda: grid.get_by_test_id("grid-counts").inner_text(),
        )

    status_has("20 of 300 flagged · 3 resolved")
    for sid in (0, 1, 2):  # fixed by accept_suggestions: no "-> suggestion" badge left
        tile(sid).get_by_test_id("tile-resolved").wait_for()
        assert tile(sid).get_by_test_id("tile-resolved").inner_text() == "✓ accepted"
        assert tile(sid).get_by_test_id("tile-badge").count() == 0
    assert tile(3).get_by_test_id("tile-badge").inner_text() == "→ 4"

    # fixed in the grid: 5 -> its suggestion 6 (accepted), 7 -> 9 (not the suggestion 8)
    tile(5).click()
    page.keyboard.press("6")
    status_has("20 of 300 flagged · 4 resolved")
    tile(7).click()
    page.keyboard.press("9")
    status_has("20 of 300 flagged · 5 resolved")
    wait_until(
        lambda: tile(7).get_by_test_id("tile-resolved").count() == 1,
        15,
        "tile 7 resolved",
    )
    assert tile(7).get_by_test_id("tile-resolved").inner_text() == "✓ relabeled"
    assert tile(5).get_by_test_id("tile-resolved").inner_text() == "✓ accepted"

    review = grid.get_by_test_id("filter-review")
    review.select_option("resolved")
    wait_status(grid, rows=5)
    assert sorted(int(t.get_attribute("data-id")) for t in grid.get_by_test_id("tile").all()) == [
        0,
        1,
        2,
        5,
        7,
    ]
    review.select_option("open")
    wait_status(grid, rows=15)

    nb.run_cell("editor = dj.LabelEditor(ds, issues)\neditor")
    editor = editor_root(page)
    _wait_progress(editor, 0, 15)
    assert editor.get_by_test_id("editor-counts").inner_text() == "15 to review · 5 resolved"
    assert editor_current(editor) == 3  # the most suspicious open finding
    page.keyboard.press("Enter")
    _wait_progress(editor, 1, 15)
    assert editor.get_by_test_id("editor-counts").inner_text() == "14 to review · 6 resolved"
    status_has("20 of 300 flagged · 6 resolved")  # the grid follows the editor's decision


def test_progress_bar_leaves_text_in_the_saved_notebook(notebook, browser, lab_server):
    """Defect 7: a finished progress bar is one line of text in the saved notebook, and the
    notebook opened again in a new page shows it (no "Error displaying widget: model not
    found")."""
    import nbformat

    nb: LabNotebook = notebook([digits(0)])
    nb.run_cell("found = ds.find_label_issues(cv=3)\nint(found.flags.sum())")
    page = nb.page
    before = nb.path.stat().st_mtime_ns
    page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")

    def saved():
        if nb.path.stat().st_mtime_ns == before:
            return None
        cells = nbformat.read(str(nb.path), as_version=4).cells
        return cells if len(cells) >= 2 and cells[1].get("execution_count") else None

    cells = wait_until(saved, 30, "the notebook saved with the find cell run")
    outputs = cells[1].outputs
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" not in mimes, mimes
    texts = [o["data"]["text/plain"] for o in outputs if "text/plain" in o.get("data", {})]
    assert any(re.search(r"label issues: \d+/\d+ done in [\d.]+ s", t) for t in texts), texts

    again, _, _ = new_page(browser, 90)
    try:
        again.goto(lab_server.lab_url(nb.name, "ws-progress-reopened"))
        again.locator("#jupyterlab-splash").wait_for(state="detached")
        again.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
        out = again.locator(".jp-Notebook .jp-CodeCell").nth(1).locator(".jp-OutputArea")
        out.get_by_text(re.compile(r"label issues: \d+/\d+ done in")).wait_for(timeout=30_000)
        assert "Error displaying widget" not in again.locator(".jp-Notebook").inner_text()
    finally:
        again.context.close()


def test_text_dataset_gallery_shows_cards(notebook):
    """Defect 6: a text dataset's gallery shows cards (the sentence, the whole label, the
    suggestion), not 76-px thumbnails that cut the label."""
    import nbcode

    nb: LabNotebook = notebook([nbcode.dataset(120), nbcode.issues(8)])
    nb.run_cell("grid = dj.SampleGrid(ds, issues=issues, layout='gallery')\ngrid")
    grid = grid_root(nb.page)
    wait_status(grid, rows=120)
    grid.get_by_test_id("filter-issues").check()  # the flagged ones, first in view
    wait_status(grid, rows=8)
    flagged = nb.kernel.eval("sorted(int(i) for i in issues.flagged.ids)")
    sid = flagged[0]
    label, suggested = nb.kernel.eval(
        f"[str(ds.take([{sid}])['label'].iloc[0]), str(issues.at[{sid}, 'suggested_label'])]"
    )
    card = grid.locator(f'[data-testid="tile"][data-id="{sid}"]')
    card.wait_for()
    assert card.get_attribute("data-layout") == "card"
    box = card.bounding_box()
    assert box is not None and box["width"] >= 200, box
    assert card.get_by_test_id("tile-text").inner_text() == f"sample {sid}"
    shown = card.get_by_test_id("tile-label")
    assert shown.inner_text() == label
    assert shown.evaluate("e => e.scrollWidth <= e.clientWidth"), "the label is cut"
    assert card.get_by_test_id("tile-badge").inner_text() == f"→ {suggested}"
    # cards do not overlap: the next one starts right of (or below) this one
    other = grid.locator('[data-testid="tile"]').nth(1).bounding_box()
    first = grid.locator('[data-testid="tile"]').nth(0).bounding_box()
    assert other is not None and first is not None
    assert other["x"] >= first["x"] + first["width"] or other["y"] >= first["y"] + first["height"]


def test_grid_height_fits_its_rows_and_toolbar_does_not_reflow(notebook):
    """A 3-row grid is not a 480-px empty box; selecting a row does not move the toolbar."""
    import nbcode

    nb: LabNotebook = notebook([nbcode.dataset(3), nbcode.issues(1)])
    nb.run_cell("grid = dj.SampleGrid(ds, issues=issues)\ngrid")
    grid = grid_root(nb.page)
    wait_status(grid, rows=3)
    scroll = grid.get_by_test_id("grid-scroll").bounding_box()
    assert scroll is not None and scroll["height"] < 200, scroll

    def toolbar_boxes():
        return [
            grid.get_by_test_id(t).bounding_box()
            for t in ("filter-label", "filter-text", "layout-toggle", "grid-status")
        ]

    before = toolbar_boxes()
    grid.locator('[data-testid="grid-row"]').first.click(position={"x": 5, "y": 5})
    grid.get_by_test_id("remove-selected").wait_for(state="visible")
    assert "1 selected" in grid.get_by_test_id("grid-status").inner_text()
    assert toolbar_boxes() == before


def test_sort_and_filter_survive_a_page_reload(notebook, browser, lab_server):
    """The grid's sort and filter are kept in the widget's state: the notebook opened again
    (the kernel still running) shows the same sorted, filtered rows."""
    import nbcode
    from uidom import header, rendered_ids, wait_aria_sort

    nb: LabNotebook = notebook([nbcode.dataset(300), nbcode.issues(8)])
    nb.run_cell("grid = dj.SampleGrid(ds, issues=issues)\ngrid")
    page = nb.page
    grid = grid_root(page)
    wait_status(grid, rows=300)
    grid.get_by_test_id("filter-issues").check()
    wait_status(grid, rows=8)
    header(grid, "x").click()
    wait_aria_sort(grid, "x", "ascending")
    expected = nb.kernel.eval(
        "[int(i) for i in ds.take(sorted(int(i) for i in issues.flagged.ids))"
        ".sort_values('x', kind='stable').index]"
    )
    wait_until(lambda: rendered_ids(grid) == expected, 20, "the sorted flagged rows")
    nb.kernel.wait_for("grid.query['sort'] == {'column': 'x', 'ascending': True}")
    page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    wait_until(lambda: "grid = dj.SampleGrid" in nb.path.read_text(), 30, "the notebook saved")

    again, _, _ = new_page(browser, 90)
    try:
        again.goto(lab_server.lab_url(nb.name, "ws-query-reopened"))
        again.locator("#jupyterlab-splash").wait_for(state="detached")
        grid2 = grid_root(again)
        wait_status(grid2, rows=8)
        assert grid2.get_by_test_id("filter-issues").is_checked()
        wait_aria_sort(grid2, "x", "ascending")
        wait_until(lambda: rendered_ids(grid2) == expected, 20, "the same rows after reload")
    finally:
        again.context.close()


def test_relabel_to_every_view_rerendered_latency(notebook):
    """The target "click -> relabel -> every open view re-rendered" measured in the page
    (printed, not asserted against a clock): a table grid, a gallery grid and an editor on
    one dataset; 12 relabels one after the other, then 12 fired 25 ms apart. The reference,
    measured the same way in the same page: a bare widget's kernel round trip (echo)."""
    import nbcode

    nb: LabNotebook = notebook([nbcode.dataset(300)])
    nb.run_cell("grid = dj.SampleGrid(ds)\ngrid")
    nb.run_cell("gallery = dj.SampleGrid(ds, layout='gallery')\ngallery")
    nb.run_cell("editor = dj.LabelEditor(ds)\neditor")
    nb.run_cell(ECHO_CELL)
    page = nb.page
    for i in range(2):
        wait_status(grid_root(page, i), rows=300)
    _wait_progress(editor_root(page), 0, 300)
    grid = grid_root(page)
    wait_until(
        lambda: grid.locator('[data-testid="grid-row"][data-id="11"]').count() == 1,
        20,
        "the first rows of the table",
    )
    page.locator('[data-testid="echo"]').wait_for(state="attached")
    ids = list(range(12))
    got = {
        "one_after_the_other": page.evaluate(RELABEL_JS, {"ids": ids, "gap": None}),
        "echo_one_after_the_other": page.evaluate(ECHO_JS, {"ids": ids, "gap": None}),
        "25ms_apart": page.evaluate(RELABEL_JS, {"ids": ids[::-1], "gap": 25}),
        "echo_25ms_apart": page.evaluate(ECHO_JS, {"ids": [i + 100 for i in ids], "gap": 25}),
    }
    result: dict[str, object] = {
        "what": "click -> relabel -> both grids re-rendered (the page has finished the frame "
        "that shows the new label in every grid; dom_*: when the DOM first showed it); 300 "
        "rows, a table grid, a gallery grid and a LabelEditor open; JupyterLab 4 + headless "
        "chromium. echo_*: the reference, a bare widget's kernel round trip and one frame, "
        "measured the same way in the same page",
        "target_ms": 150,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    for key, rows in got.items():
        assert all(r[-2] >= 0 for r in rows), f"{key}: never shown: {rows}"
        ms, dom = [r[-2] for r in rows], [r[-1] for r in rows]
        result[key] = {
            "p50": round(pct(ms, 0.5), 1),
            "p95": round(pct(ms, 0.95), 1),
            "max": round(max(ms), 1),
            "all": [round(m, 1) for m in ms],
            "dom_p50": round(pct(dom, 0.5), 1),
            "dom_p95": round(pct(dom, 0.95), 1),
        }
    for name, key in (
        ("one after the other", "one_after_the_other"),
        ("25 ms apart", "25ms_apart"),
    ):
        ours, ref = result[key], result[f"echo_{key}"]
        assert isinstance(ours, dict) and isinstance(ref, dict)
        print(
            f"\n[ui] relabel -> 2 grids re-rendered ({name}, 12 relabels, 3 open views): "
            f"p50 {ours['p50']:.0f} ms, p95 {ours['p95']:.0f} ms, max {ours['max']:.0f} ms; "
            f"a bare kernel round trip: p50 {ref['p50']:.0f}, p95 {ref['p95']:.0f} ms "
            f"(p95 ratio {ours['p95'] / max(ref['p95'], 1e-9):.2f})"
        )
    out = Path(__file__).resolve().parents[2] / "benchmarks" / "_out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ui_relabel_views_latency.json").write_text(json.dumps(result, indent=1))
    final = {r[0]: r[1] for r in got["25ms_apart"]}
    labels = nb.kernel.eval(f"[str(v) for v in ds.take({sorted(final)!r})['label']]")
    assert labels == [final[i] for i in sorted(final)]
    assert nb.kernel.eval("int((ds.history.changes.source == 'widget').sum())") == 24


def test_detail_view_shows_fields_finding_and_history_and_moves_through_the_filter(notebook):
    """Space on a sample opens it large: every field, its finding's reason, every recorded
    change of its id with where it came from; the arrows move through the current filter."""
    import nbcode

    nb: LabNotebook = notebook(
        [nbcode.dataset(120), nbcode.duplicates(), 'ds.relabel([10], ["bird"], reason="by eye")']
    )
    nb.run_cell("grid = dj.SampleGrid(ds, findings=dups)\ngrid")
    page = nb.page
    grid = grid_root(page)
    wait_status(grid, rows=120)
    grid.get_by_test_id("filter-issues").check()  # whole duplicate groups: 9 rows
    wait_status(grid, rows=9)
    order = [40, 70, 10, 20, 60, 90, 33, 6, 5]  # opened by score: groups whole, keeper first
    row10 = grid.locator('[data-testid="grid-row"][data-id="10"]')
    row10.click(position={"x": 5, "y": 5})
    page.keyboard.press(" ")
    detail = grid.get_by_test_id("grid-detail")
    detail.get_by_test_id("detail-reason").wait_for()
    assert detail.get_by_test_id("detail-title").inner_text() == "sample 10"
    assert detail.get_by_test_id("detail-reason").inner_text() == "same as 40"
    fields = {
        r.get_attribute("data-name"): r.locator("td").inner_text()
        for r in detail.get_by_test_id("detail-field").all()
    }
    assert fields["text"] == "sample 10" and fields["label"] == "bird", fields
    assert set(fields) >= {"n", "x", "text", "label"}
    changes = detail.get_by_test_id("detail-change").all_inner_texts()
    assert len(changes) == 1 and re.match(r"v1 relabel · cell \(In \[\d+\]\) · by eye", changes[0])

    page.keyboard.press("ArrowDown")  # the next row of this filter, not sample 11
    wait_until(
        lambda: detail.get_by_test_id("detail-title").inner_text() == f"sample {order[3]}",
        15,
        "the detail of the next row in the filter",
    )
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    wait_until(
        lambda: detail.get_by_test_id("detail-title").inner_text() == f"sample {order[1]}",
        15,
        "the detail two rows up",
    )
    assert detail.get_by_test_id("detail-change").count() == 0  # sample 70 never changed
    page.keyboard.press("Escape")
    detail.wait_for(state="hidden")


WIDE = """\
import numpy as np
import pandas as pd
import dcai_jupyter as dj

wide = pd.DataFrame({f"f{i:02d}": np.arange(30) * 1.5 + i for i in range(50)})
wide["label"] = np.array(["cat", "dog", "bird"])[np.arange(30) % 3]
ds = dj.Dataset(wide, label="label", history=":memory:")
grid = dj.SampleGrid(ds)
grid
"""


def test_wide_table_frozen_columns_chooser_and_resize(notebook):
    """sample_id and the label stay in view while the table scrolls sideways; every column
    is reachable (the chooser says how many are shown and shows hidden ones); a header's
    edge drags its column wider."""
    from uidom import cell, header

    nb: LabNotebook = notebook([WIDE])
    page = nb.page
    grid = grid_root(page)
    wait_status(grid, rows=30)
    chooser = grid.get_by_test_id("column-chooser")
    assert chooser.inner_text() == "Columns 42 of 52"  # sample_id, label, 40 of 50 features
    assert header(grid, "f45").count() == 0

    scroll = grid.get_by_test_id("grid-scroll")
    scroll.evaluate("e => { e.scrollLeft = e.scrollWidth; e.dispatchEvent(new Event('scroll')); }")
    box = scroll.bounding_box()
    assert box is not None
    wait_until(
        lambda: scroll.evaluate("e => e.scrollLeft") > 1000, 10, "the table scrolled sideways"
    )
    for col in ("sample_id", "label"):
        b = cell(grid, 0, col).bounding_box()
        assert b is not None and box["x"] - 1 <= b["x"] < box["x"] + 300, (col, b, box)
        hb = header(grid, col).bounding_box()
        assert hb is not None and abs(hb["x"] - b["x"]) <= 1, (col, hb, b)  # over its cells

    chooser.click()
    option = grid.locator('[data-testid="column-option"][data-col="f45"]')
    assert not option.is_checked()
    option.check()
    header(grid, "f45").wait_for()
    wait_until(lambda: cell(grid, 0, "f45").count() == 1, 15, "f45 cells")
    # one format per column: f45 holds 45, 46.5, 48, ... so every cell shows one decimal
    assert cell(grid, 2, "f45").inner_text().strip() == "48.0"
    assert chooser.inner_text() == "Columns 43 of 52"
    nb.kernel.wait_for("'f45' not in (grid.hidden_columns or [])", what="the choice in the kernel")

    scroll.evaluate("e => { e.scrollLeft = 0; e.dispatchEvent(new Event('scroll')); }")
    h = header(grid, "f00")
    w0 = h.bounding_box()["width"]
    handle = h.get_by_test_id("col-resize").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y, steps=4)
    page.mouse.move(x + 80, y, steps=4)
    page.mouse.up()
    wait_until(
        lambda: abs(header(grid, "f00").bounding_box()["width"] - (w0 + 80)) <= 2,
        10,
        "f00 80 px wider",
    )
    assert abs(cell(grid, 0, "f00").bounding_box()["width"] - (w0 + 80)) <= 2
    assert header(grid, "f00").get_attribute("aria-sort") == "none"  # a drag is not a sort
