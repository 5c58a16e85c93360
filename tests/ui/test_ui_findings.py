"""Findings of a family other than label issues in a real JupyterLab: duplicates side by side in
the grid (groups adjacent, keeper marked), and one key removing a flagged duplicate, both in the
LabelEditor (Enter) and in the grid (a), checked in the browser (keys, focus) and in the kernel.
"""

from __future__ import annotations

import nbcode
import pytest
from labharness import wait_until
from nbcode import DUP_GROUPS
from uidom import (
    editor_current,
    editor_progress,
    editor_root,
    grid_root,
    header,
    row,
    scroll_to,
    wait_aria_sort,
    wait_rows,
    wait_status,
)

pytestmark = pytest.mark.ui

GROUP_OF = {sid: g for g, members in DUP_GROUPS.items() for sid in members}
KEEPERS = {members[0] for members in DUP_GROUPS.values()}
#: most suspicious group first (its best score), keeper first, then by score
BY_SCORE = [40, 70, 10, 20, 60, 90, 33, 6, 5]
#: the editor's queue: flagged members only, in the same grouped order
QUEUE = [70, 10, 60, 90, 33, 5]

_ROW_MARKS_JS = """(root) => [...root.querySelectorAll('[data-testid="grid-row"]')]
    .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
    .map(r => ({
        id: Number(r.dataset.id),
        group: r.dataset.group ?? null,
        keeper: r.dataset.keeper === "true",
        start: r.classList.contains("dcai-group-start"),
        badge: r.querySelector('[data-testid="keeper-badge"]')?.textContent ?? null,
    }))"""

_FOCUS_IN_JS = """(testid) => {
    const a = document.activeElement;
    return Boolean(a && a.closest(`[data-testid="${testid}"]`));
}"""


def _focused_in(page, testid: str) -> bool:
    return bool(page.evaluate(_FOCUS_IN_JS, testid))


def test_duplicates_grid_groups_and_one_key_removal(notebook):
    nb = notebook(
        [
            nbcode.dataset(100),
            nbcode.duplicates(),
            "grid = dj.SampleGrid(ds, findings=dups)\ngrid",
            "editor = dj.LabelEditor(ds, dups)\neditor",
            # a table without text: the gallery shows cards of a few fields and the full label
            "tab = dj.Dataset(df.drop(columns=['text']), label='label', classes=CLASSES, "
            "history=':memory:')\ndj.SampleGrid(tab, findings=dups, layout='gallery')",
        ]
    )
    page = nb.page
    grid = grid_root(page)
    wait_status(grid, rows=100, version=0)
    for col in ("match", "drop", "dup_of", "keep_me", "why"):
        assert header(grid, col).count() == 1, f'no [data-testid="header"][data-col="{col}"]'

    # -- the grid opens by the score, most suspicious first: groups side by side
    wait_aria_sort(grid, "match", "descending")
    wait_rows(grid, lambda ids: ids[:9] == BY_SCORE, "duplicate groups by score, keeper first")
    # what differs from the keeper is marked on the copies' cells, never on the keeper's
    for sid in (70, 10):
        assert row(grid, sid).locator('[data-col="n"]').get_attribute("data-differs") == "true"
        assert "dcai-differs" in (
            row(grid, sid).locator('[data-col="n"]').get_attribute("class") or ""
        )
    assert row(grid, 40).locator('[data-differs="true"]').count() == 0
    # the first click on another column sorts it ascending, on the score most suspicious first
    header(grid, "n").click()
    wait_aria_sort(grid, "n", "ascending")
    header(grid, "match").click()
    wait_aria_sort(grid, "match", "descending")
    wait_rows(grid, lambda ids: ids[:9] == BY_SCORE, "back to the groups by score")
    marks = grid.evaluate(_ROW_MARKS_JS)[:9]
    assert [m["id"] for m in marks] == BY_SCORE
    assert [m["group"] for m in marks] == [str(GROUP_OF[i]) for i in BY_SCORE]
    assert [m["keeper"] for m in marks] == [i in KEEPERS for i in BY_SCORE]
    assert [m["badge"] for m in marks] == ["keeper" if i in KEEPERS else None for i in BY_SCORE]
    starts = [m["id"] for m in marks if m["start"]]
    assert starts == [40, 20, 6], f"group-start marks on {starts}"
    assert row(grid, 40).get_by_test_id("keeper-badge").is_visible()
    # "flagged only" keeps whole groups: the keepers stay beside their duplicates
    grid.get_by_test_id("filter-issues").check()
    wait_status(grid, rows=9)
    wait_rows(grid, lambda ids: ids == BY_SCORE, "flagged groups, still side by side")

    # -- the editor: one key (Enter) removes the flagged duplicate on screen
    editor = editor_root(page)
    wait_until(
        lambda: editor_progress(editor) == (0, len(QUEUE)),
        15,
        f"editor-progress 0 / {len(QUEUE)}",
        describe=lambda: editor.get_by_test_id("editor-progress").inner_text(),
    )
    assert editor_current(editor) == QUEUE[0]
    peers = editor.get_by_test_id("editor-peer")
    assert peers.count() == 2
    keeper_peer = editor.locator('[data-testid="editor-peer"][data-keeper="true"]')
    assert keeper_peer.get_attribute("data-id") == "40"
    assert keeper_peer.get_by_test_id("peer-keeper").is_visible()
    assert editor.get_by_test_id("editor-reason").inner_text().strip() == "same as 40"
    assert "Enter remove" in editor.get_by_test_id("editor-help").inner_text()
    editor.click(position={"x": 3, "y": 3})  # a corner: no button there
    wait_until(lambda: _focused_in(page, "dcai-editor"), 5, "keyboard focus in the editor")
    page.keyboard.press("Enter")
    nb.kernel.wait_for("70 not in ds.ids", what="sample 70 removed by Enter in the editor")
    last = nb.kernel.eval("ds.history.changes.iloc[-1][['op', 'source', 'widget', 'ids']].tolist()")
    assert last == ["remove", "widget", "LabelEditor", [70]], last
    wait_until(
        lambda: editor_progress(editor) == (1, len(QUEUE)) and editor_current(editor) == QUEUE[1],
        15,
        "the next duplicate after Enter",
        describe=lambda: editor.get_by_test_id("editor-progress").inner_text(),
    )
    assert _focused_in(page, "dcai-editor"), "the editor lost the keyboard focus after Enter"
    assert nb.kernel.eval("len(ds)") == 99 and nb.kernel.eval("ds.version") == 1
    # the grid follows: 70 is gone, group 7 ranks by its next member now
    after = [20, 60, 90, 33, 6, 5, 40, 10]
    wait_status(grid, rows=8, version=1)
    wait_rows(grid, lambda ids: ids == after, "the grid without 70, groups re-ranked")

    # -- the grid: focus a flagged row, one key (a) accepts its finding = removes it
    row(grid, 60).locator('[data-testid="cell"][data-col="why"]').click()
    wait_until(lambda: _focused_in(page, "dcai-grid"), 5, "keyboard focus in the grid")
    page.keyboard.press("a")
    nb.kernel.wait_for("60 not in ds.ids", what="sample 60 removed by 'a' in the grid")
    last = nb.kernel.eval("ds.history.changes.iloc[-1][['op', 'source', 'widget', 'ids']].tolist()")
    assert last == ["remove", "widget", "SampleGrid", [60]], last
    wait_rows(grid, lambda ids: ids == [20, 90, 33, 6, 5, 40, 10], "the grid without 60")
    # a keeper is not flagged: 'a' on it is refused in the widget and changes nothing
    row(grid, 20).locator('[data-testid="cell"][data-col="why"]').click()
    page.keyboard.press("a")
    err = grid.get_by_test_id("grid-error")
    wait_until(lambda: "not flagged" in err.inner_text(), 10, "the refusal shown in the grid")
    assert nb.kernel.eval("ds.version") == 2 and nb.kernel.eval("20 in ds.ids")

    # -- the gallery: the same order, keepers and flagged duplicates marked on the tiles
    grid.get_by_test_id("layout-toggle").click()
    tile = grid.locator('[data-testid="tile"][data-id="20"]')
    tile.wait_for()
    tiles = grid.evaluate(
        """(root) => [...root.querySelectorAll('[data-testid="tile"]')]
            .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
            .map(t => [Number(t.dataset.id), t.querySelector('[data-testid="tile-keeper"]') !== null,
                       t.querySelector('[data-testid="tile-badge"]')?.textContent ?? null])"""
    )
    assert tiles == [
        [20, True, None],
        [90, False, "remove"],
        [33, False, "remove"],
        [6, True, None],
        [5, False, "remove"],
        [40, True, None],
        [10, False, "remove"],
    ], tiles
    grid.get_by_test_id("layout-toggle").click()

    # -- a table's gallery: cards with the columns that differ from the keeper first (marked),
    # the label whole (not cut to "b…")
    cards = grid_root(page, 1)
    card = cards.locator('[data-testid="tile"][data-id="70"]')
    card.wait_for()
    fields = card.get_by_test_id("tile-field")
    wait_until(lambda: fields.count() >= 2, 10, "fields on the card of sample 70")
    assert fields.first.get_attribute("data-differs") == "true"
    assert fields.first.inner_text().split()[0] in ("n", "x")
    label = card.get_by_test_id("tile-label")
    want = nb.kernel.eval("str(tab.df.loc[70, 'label'])")
    assert label.inner_text().strip() == want
    assert label.evaluate("e => e.scrollWidth <= e.clientWidth"), "the label is cut"
    keeper_card = cards.locator('[data-testid="tile"][data-id="40"]')
    assert keeper_card.locator('[data-differs="true"]').count() == 0

    # -- rows an operation makes appear with an origin badge, in a column added live
    grid.get_by_test_id("filter-issues").uncheck()
    header(grid, "match").click()  # second click: least suspicious first
    wait_aria_sort(grid, "match", "ascending")
    header(grid, "match").click()  # third click: back to row order
    wait_aria_sort(grid, "match", "none")
    nb.kernel.run(
        "plan = ds.plan('synthesize', {'method': 'test'})\n"
        "made = plan.add(pd.DataFrame({'n': [1, 2], 'x': [0.1, 0.2], 'text': ['s1', 's2'], "
        "'label': ['cat', 'dog']}), origin='synthetic:test', source_ids=[0, 1])\n"
        "ds.apply(plan.change())"
    )
    made = nb.kernel.eval("[int(i) for i in made]")
    header(grid, "origin").wait_for()
    wait_status(grid, rows=100, version=3)  # 100 - 70 - 60 + 2 made
    scroll_to(grid, 1.0)
    wait_rows(grid, lambda ids: ids[-2:] == made, "the synthetic rows at the end")
    for sid in made:
        badge = row(grid, sid).get_by_test_id("origin-badge")
        assert badge.inner_text().strip() == "synthetic:test"
    assert row(grid, 0).get_by_test_id("origin-badge").count() == 0
