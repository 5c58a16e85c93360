"""LabelEditor in a real JupyterLab at ordinary widths and in the dark theme, and the keyboard
hand-over between the widgets and the notebook (issue 19, items 1, 6, 9, 10).

- layout: cell widths from ~400 to ~1100 px (viewport, the file browser, the Data history
  side panel): no field name drawn over its value, every button inside the editor and the
  viewport, action buttons never cut (long class names are cut with an ellipsis, the whole
  name in the button's tooltip);
- theme: the "click here to review" banner, the suggested label and the class buttons are
  WCAG AA (contrast >= 4.5) in JupyterLab Light and JupyterLab Dark, measured from the
  computed colours (the background found by walking up to the first opaque one);
- keyboard: Esc in the editor (and in the grid) goes back to the notebook in command mode
  (``b`` then adds a cell), a click on the editor's own cell prompt does too; Home / End
  in a 100k-row grid keep the focus on the grid (arrows go on working); Enter on an
  active-learning pick accepts the model's predicted label.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from labharness import LabNotebook, wait_until
from uidom import editor_current, editor_progress, editor_root, grid_root, wait_status

pytestmark = pytest.mark.ui

CLASSES = [
    "sport",
    "cooking",
    "weather",
    "politics and government",
    "science, technology and the long tail of everything else",
]

TEXT_DATASET = f"""\
import numpy as np
import pandas as pd
import dcai_jupyter as dj

CLASSES = {CLASSES!r}
N = 300
rng = np.random.default_rng(7)
words = "the match was played in heavy rain while the chef kept cooking a long stew".split()
df = pd.DataFrame({{
    "text": [" ".join(rng.choice(words, 12 + i % 30)) for i in range(N)],
    "image": [rng.integers(0, 16, (8, 8)) for _ in range(N)],
    "a_rather_long_feature_column_name": np.round(rng.normal(size=N), 3),
    "n_words": rng.integers(0, 40_000, N),
    "label": rng.choice(CLASSES, N),
}})
ds = dj.Dataset(df, label="label", classes=CLASSES, history=":memory:")
quality = rng.uniform(0, 1, N)
quality[np.argsort(quality)[0]] = 4.762e-4
given = ds.column("label")
suggested = np.array([CLASSES[(CLASSES.index(g) + 1) % len(CLASSES)] for g in given], dtype=object)
issues = dj.Findings(
    pd.DataFrame(
        {{"given_label": given, "suggested_label": suggested, "label_quality": quality,
          "score": 1 - quality, "is_issue": quality < 0.1}},
        index=pd.Index(ds.ids, name="sample_id"),
    ),
    op="label_issues",
    roles={{"score": "score", "flag": "is_issue", "suggestion": "suggested_label"}},
    action="relabel",
)
editor = dj.LabelEditor(ds, issues)
editor
"""

#: rectangles that must not overlap: a fact's name and its value; the table fields
_LAYOUT_JS = """(root) => {
    const r = (e) => e.getBoundingClientRect();
    const overlap = (a, b) =>
        Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 &&
        Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
    const inside = (a, b) =>
        a.left >= b.left - 0.5 && a.right <= b.right + 0.5 &&
        a.top >= b.top - 0.5 && a.bottom <= b.bottom + 0.5;
    const shown = (e) => e.offsetParent !== null && r(e).width > 0;
    const problems = [];
    const pairs = [];
    for (const dl of root.querySelectorAll("dl")) {
        const kids = [...dl.children].filter(shown);
        for (let i = 0; i + 1 < kids.length; i += 2) pairs.push([kids[i], kids[i + 1]]);
    }
    for (const tr of root.querySelectorAll(".dcai-fields tr")) {
        const [th, td] = tr.children;
        if (th && td && shown(th)) pairs.push([th, td]);
    }
    const names = [...pairs.map(([a]) => a), ...pairs.map(([, b]) => b)];
    // where the text is drawn (it may run out of its element's box: that is the defect)
    const ink = (e) => {
        const range = document.createRange();
        range.selectNodeContents(e);
        const b = range.getBoundingClientRect();
        return b.width > 0 ? b : r(e);
    };
    for (const [name, value] of pairs) {
        const [n, v] = [ink(name), ink(value)];
        const pair = `${JSON.stringify(name.textContent)}: ${JSON.stringify(value.textContent)}`;
        if (overlap(n, v)) problems.push(`name over its value (${pair})`);
        // side by side on one line: the name left of its value, both starting on that line
        else if (Math.abs(n.top - v.top) > 2 || n.right > v.left + 0.5)
            problems.push(`name and value not side by side (${pair})`);
    }
    // no two texts of the side column overlap either (names and values of different rows)
    for (let i = 0; i < names.length; i++)
        for (let j = i + 1; j < names.length; j++)
            if (!names[i].contains(names[j]) && !names[j].contains(names[i])
                && overlap(ink(names[i]), ink(names[j])))
                problems.push(`${JSON.stringify(names[i].textContent)} overlaps `
                    + JSON.stringify(names[j].textContent));
    const rootBox = r(root);
    const vw = document.documentElement.clientWidth;
    const vh = document.documentElement.clientHeight;
    const viewport = { left: 0, top: -1e9, right: vw, bottom: 1e9 };
    const buttons = [...root.querySelectorAll("button")].filter(shown);
    for (const b of buttons) {
        const box = r(b);
        const text = JSON.stringify(b.textContent);
        if (!inside(box, r(b.parentElement))) problems.push(`button ${text} sticks out of its row`);
        if (!inside(box, rootBox)) problems.push(`button ${text} sticks out of the editor`);
        if (!inside(box, viewport)) problems.push(`button ${text} is outside the viewport`);
        if (b.scrollWidth > b.clientWidth) {
            // only a class name may be cut, with an ellipsis and the whole name as tooltip
            const cls = b.dataset.class;
            const ok = cls !== undefined && getComputedStyle(b).textOverflow === "ellipsis"
                && (b.title || "").includes(cls);
            if (!ok) problems.push(`button ${text} is cut (${b.scrollWidth} > ${b.clientWidth})`);
        }
    }
    const current = root.querySelector('[data-testid="editor-current"]');
    const panel = root.querySelector(".dcai-editor-panel");
    if (overlap(r(current), r(panel))) problems.push("the sample overlaps the side column");
    if (root.scrollWidth > root.clientWidth + 1)
        problems.push(`editor overflows: ${root.scrollWidth} > ${root.clientWidth}`);
    const area = root.closest(".jp-OutputArea-output") || root.parentElement;
    if (rootBox.right > r(area).right + 0.5) problems.push("editor wider than its output area");
    return { width: Math.round(rootBox.width), buttons: buttons.length, pairs: pairs.length, problems };
}"""

# the contrast of an element's text against what is drawn behind it (WCAG 2 ratio)
_CONTRAST_JS = """(el) => {
    const ctx = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
    const rgba = (css) => {
        ctx.clearRect(0, 0, 1, 1);
        ctx.fillStyle = "rgba(0, 0, 0, 0)";
        ctx.fillStyle = css;
        ctx.fillRect(0, 0, 1, 1);
        const d = ctx.getImageData(0, 0, 1, 1).data;
        return [d[0], d[1], d[2], d[3] / 255];
    };
    const over = (top, below) => {
        const a = top[3];
        return [0, 1, 2].map((i) => top[i] * a + below[i] * (1 - a)).concat([1]);
    };
    // backgrounds from the element up to the first opaque one, then composited
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
        const c = rgba(getComputedStyle(n).backgroundColor);
        if (c[3] > 0) layers.push(c);
        if (c[3] >= 1) break;
    }
    let bg = [255, 255, 255, 1];
    for (const c of layers.reverse()) bg = over(c, bg);
    const fg = over(rgba(getComputedStyle(el).color), bg);
    const lum = (c) => {
        const [r, g, b] = c.slice(0, 3).map((v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    return {
        ratio: (hi + 0.05) / (lo + 0.05),
        fg: fg.slice(0, 3).map(Math.round),
        bg: bg.slice(0, 3).map(Math.round),
        text: el.textContent.slice(0, 40),
    };
}"""

SHOTS = Path(os.environ.get("DCAI_UI_SHOTS") or tempfile.gettempdir()) / "dcai-ui-shots"


def _layout(editor: Any) -> dict[str, Any]:
    return dict(editor.evaluate(_LAYOUT_JS))


def _left_tab(page: Any) -> Any:
    return page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="filebrowser"]')


def _set_sidebars(page: Any, left: bool, right: bool) -> None:
    """Open or close the file browser (left) and the Data history panel (right)."""
    browser_panel = page.locator("#filebrowser")
    if browser_panel.is_visible() != left:
        _left_tab(page).click()
        browser_panel.wait_for(state="visible" if left else "hidden")
    panel = page.locator("#dcai-data-history")
    if panel.is_visible() != right:
        if right:
            page.locator(".dcai-hp-toolbar-button").first.click()
        else:
            page.locator(
                '.jp-SideBar.jp-mod-right .lm-TabBar-tab[data-id="dcai-data-history"]'
            ).click()
        panel.wait_for(state="visible" if right else "hidden")


def _contrast(locator: Any) -> float:
    seen = locator.evaluate(_CONTRAST_JS)
    print(f"[ui] contrast {seen['ratio']:.2f} {seen['fg']} on {seen['bg']}: {seen['text']!r}")
    return float(seen["ratio"])


def _set_theme(page: Any, name: str) -> None:
    """Settings > Theme > ``name``; wait until the page wears it."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Settings$")).click()
    page.locator('.lm-Menu .lm-Menu-item:has(.lm-Menu-itemLabel:text-is("Theme"))').hover()
    page.locator(f'.lm-Menu .lm-Menu-item:has(.lm-Menu-itemLabel:text-is("{name}"))').click()
    page.locator(f'body[data-jp-theme-name="{name}"]').wait_for(state="attached")
    page.keyboard.press("Escape")


def _check_theme(nb: LabNotebook, editor: Any, theme: str) -> dict[str, float]:
    """Contrast ratios of the editor's banner, suggested label and a class button."""
    page = nb.page
    editor.click(position={"x": 3, "y": 3})
    page.keyboard.press("Escape")  # unfocused: the "click here to review" banner shows
    hint = editor.get_by_test_id("editor-focus-hint")
    hint.wait_for(state="visible")
    ratios = {
        "banner": _contrast(hint),
        "suggested": _contrast(editor.get_by_test_id("editor-suggested")),
        "class button": _contrast(editor.get_by_test_id("editor-class").first),
        "help": _contrast(editor.get_by_test_id("editor-help")),
    }
    print(f"[ui] {theme}: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    return ratios


def test_editor_lays_out_from_400_px_and_reads_in_light_and_dark(notebook):
    nb = notebook([TEXT_DATASET])
    page = nb.page
    editor = editor_root(page)
    wait_until(lambda: editor_progress(editor) is not None, 30, "the first sample")
    editor.get_by_test_id("editor-text").wait_for()

    # the same number as the grid: label_quality 4.762e-4 reads 0.0005 (4 decimals here)
    quality = editor.locator('[data-testid="editor-fact"][data-name="label_quality"]')
    assert quality.inner_text().strip() == "0.0005", quality.inner_text()

    widths: list[tuple[str, int]] = []
    configs = [
        ("1280, no side panels", 1280, False, False),  # ~1100 px
        ("1280, Data history open", 1280, False, True),  # ~850 px
        ("1400, file browser + Data history", 1400, True, True),  # ~700 px
        ("1280, file browser + Data history", 1280, True, True),  # ~600 px
        ("1100, file browser + Data history", 1100, True, True),  # ~400 px
    ]
    try:
        for what, vw, left, right in configs:
            page.set_viewport_size({"width": vw, "height": 900})
            _set_sidebars(page, left, right)
            page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => r(true)))")
            seen = _layout(editor)
            widths.append((what, seen["width"]))
            print(
                f"[ui] editor {seen['width']} px wide ({what}): {seen['buttons']} buttons, "
                f"{seen['pairs']} name/value pairs"
            )
            assert seen["problems"] == [], f"{what} ({seen['width']} px): {seen['problems']}"
            assert seen["buttons"] >= len(CLASSES) + 4 and seen["pairs"] >= 5
        SHOTS.mkdir(parents=True, exist_ok=True)
        editor.screenshot(path=str(SHOTS / "editor-narrow-light.png"))
        sizes = [w for _, w in widths]
        assert min(sizes) <= 450 and max(sizes) >= 1050, widths
        assert any(600 <= w <= 800 for w in sizes), widths
        # a long class name is cut, with the whole name in the tooltip
        long_button = editor.locator(f'[data-testid="editor-class"][data-class="{CLASSES[-1]}"]')
        assert CLASSES[-1] in (long_button.get_attribute("title") or "")

        page.set_viewport_size({"width": 1280, "height": 900})
        _set_sidebars(page, False, False)
        light = _check_theme(nb, editor, "JupyterLab Light")
        _set_theme(page, "JupyterLab Dark")
        dark = _check_theme(nb, editor, "JupyterLab Dark")
        editor.screenshot(path=str(SHOTS / "editor-dark.png"))
        _set_sidebars(page, True, True)
        page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => r(true)))")
        editor.screenshot(path=str(SHOTS / "editor-dark-panels.png"))
        print(f"[ui] screenshots in {SHOTS}")
        for theme, ratios in (("light", light), ("dark", dark)):
            for what, ratio in ratios.items():
                assert ratio >= 4.5, f"{theme}: {what} contrast {ratio:.2f} < 4.5"
    finally:
        if page.locator('body[data-jp-theme-name="JupyterLab Dark"]').count():
            _set_theme(page, "JupyterLab Light")  # the server's settings outlive this test


ACTIVE = """\
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
import dcai_jupyter as dj

rng = np.random.default_rng(0)
y = rng.integers(0, 2, 200)
pool_df = pd.DataFrame({"x": y + rng.normal(scale=0.6, size=200), "z": rng.normal(size=200)})
labels = np.array(["benign", "malignant"], dtype=object)[y]
labels[60:] = None
pool_df["label"] = labels
pool = dj.Dataset(pool_df, label="label", history=":memory:")
picks = pool.suggest_samples(k=6, model=LogisticRegression(), progress=False)
editor = dj.LabelEditor(pool, picks)
editor
"""

RANDOM = """\
random_picks = pool.suggest_samples(k=3, strategy="random", progress=False)
reditor = dj.LabelEditor(pool, random_picks)
reditor
"""

BIG_GRID = """\
big = dj.Dataset(pd.DataFrame({"v": np.arange(100_000) % 977, "label": rng.choice(["a", "b"], 100_000)}),
                 label="label", history=":memory:")
grid = dj.SampleGrid(big)
grid
"""


def _cells(page: Any) -> Any:
    return page.locator(".jp-Notebook .jp-Cell")


def _press_b_adds_a_cell(page: Any, what: str) -> None:
    cells = _cells(page)
    n = cells.count()
    page.keyboard.press("b")
    wait_until(lambda: cells.count() == n + 1, 10, f"b to add a cell ({what})")


def test_keyboard_goes_back_to_the_notebook_and_enter_accepts_a_prediction(notebook):
    nb = notebook([ACTIVE, RANDOM, BIG_GRID])
    page = nb.page
    editor = editor_root(page)
    wait_until(lambda: editor_progress(editor) == (0, 6), 30, "the first pick")

    # random picks have no prediction: Enter and Accept are not offered there
    reditor = editor_root(page, 1)
    wait_until(lambda: editor_progress(reditor) == (0, 3), 30, "the first random pick")
    assert reditor.get_by_test_id("editor-suggested").inner_text().strip() == "—"
    assert not reditor.get_by_test_id("editor-accept").is_enabled()
    assert "Enter" not in reditor.get_by_test_id("editor-help").inner_text()

    # item 10: Enter accepts the model's prediction shown as the suggestion
    sid = editor_current(editor)
    predicted = nb.kernel.eval(f"str(picks.at[{sid}, 'predicted_label'])")
    assert editor.get_by_test_id("editor-suggested").inner_text().strip() == predicted
    assert "Enter accept" in editor.get_by_test_id("editor-help").inner_text()
    assert editor.get_by_test_id("editor-accept").is_enabled()
    editor.click(position={"x": 3, "y": 3})
    page.keyboard.press("Enter")
    nb.kernel.wait_for(
        f"str(pool.take([{sid}])['label'].iloc[0]) == {predicted!r}", what="accepted"
    )
    wait_until(lambda: editor_progress(editor) == (1, 6), 15, "1 / 6")
    assert editor.get_by_test_id("editor-error").inner_text().strip() == ""

    # item 9: Esc leaves the editor for the notebook's command mode: b adds a cell below
    assert editor.get_attribute("data-focused") == "true"
    page.keyboard.press("Escape")
    wait_until(lambda: editor.get_attribute("data-focused") == "false", 5, "the editor lets go")
    _press_b_adds_a_cell(page, "after Esc in the editor")
    # a click on the editor's own cell prompt takes the focus back from the editor too
    editor_cell = _cells(page).filter(has=page.get_by_test_id("dcai-editor"))
    editor.click(position={"x": 3, "y": 3})
    assert editor.get_attribute("data-focused") == "true"
    editor_cell.locator(".jp-InputPrompt").first.click()
    wait_until(lambda: editor.get_attribute("data-focused") == "false", 5, "the prompt takes focus")
    _press_b_adds_a_cell(page, "after a click on the editor's prompt")

    # the 100k-row grid: Home / End keep the focus on the grid, arrows go on moving
    grid = grid_root(page)
    wait_status(grid, rows=100_000)
    rows = grid.get_by_test_id("grid-row")
    rows.nth(3).click()
    focused_row = (
        "() => document.activeElement?.closest('[data-testid=\"grid-row\"]')?.dataset.index ?? null"
    )
    wait_until(lambda: page.evaluate(focused_row) == "3", 5, "row 3 focused")
    page.keyboard.press("End")
    wait_until(
        lambda: page.evaluate(focused_row) == "99999",
        10,
        "End: the last row focused",
        describe=lambda: str(page.evaluate(focused_row)),
    )
    page.keyboard.press("Home")
    wait_until(
        lambda: page.evaluate(focused_row) == "0",
        10,
        "Home: the first row focused",
        describe=lambda: str(page.evaluate(focused_row)),
    )
    page.keyboard.press("ArrowDown")
    wait_until(
        lambda: page.evaluate(focused_row) == "1",
        10,
        "ArrowDown after Home",
        describe=lambda: str(page.evaluate(focused_row)),
    )
    page.keyboard.press("PageDown")
    wait_until(
        lambda: int(page.evaluate(focused_row) or 0) > 5,
        10,
        "PageDown moves a page",
        describe=lambda: str(page.evaluate(focused_row)),
    )
    page.keyboard.press("ArrowUp")
    assert page.evaluate(focused_row) is not None
    # Esc in the grid goes back to the notebook too
    page.keyboard.press("Escape")
    wait_until(lambda: page.evaluate(focused_row) is None, 5, "the grid lets go")
    _press_b_adds_a_cell(page, "after Esc in the grid")


def test_grid_badges_read_in_light_and_dark(notebook):
    """The grid's badges (a finding resolved, a duplicate group's keeper) keep the theme's
    text colour on a tint of their colour: WCAG AA in JupyterLab Light and Dark."""
    import nbcode

    nb = notebook(
        [
            nbcode.dataset(120),
            nbcode.issues(8),
            "first = int(issues.flagged.ids[0])\n"
            "ds.relabel([first], [issues.at[first, 'suggested_label']])",
            nbcode.duplicates(),
            "grid = dj.SampleGrid(ds, issues=issues)\ngrid",
            "dgrid = dj.SampleGrid(ds, findings=dups)\ndgrid",
        ]
    )
    page = nb.page
    resolved = grid_root(page, 0).get_by_test_id("resolved-badge").first
    keeper = grid_root(page, 1).get_by_test_id("keeper-badge").first
    resolved.wait_for()
    keeper.wait_for()
    seen: dict[str, dict[str, float]] = {}
    try:
        for theme in ("JupyterLab Light", "JupyterLab Dark"):
            if theme != "JupyterLab Light":
                _set_theme(page, theme)
            seen[theme] = {"resolved": _contrast(resolved), "keeper": _contrast(keeper)}
        SHOTS.mkdir(parents=True, exist_ok=True)
        grid_root(page, 1).screenshot(path=str(SHOTS / "grid-dark.png"))
    finally:
        if page.locator('body[data-jp-theme-name="JupyterLab Dark"]').count():
            _set_theme(page, "JupyterLab Light")
    for theme, ratios in seen.items():
        for what, ratio in ratios.items():
            assert ratio >= 4.5, f"{theme}: {what} badge contrast {ratio:.2f} < 4.5"
