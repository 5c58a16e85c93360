"""Reading the widgets' DOM as the contract (notes/contract.md) describes it.

Only ``data-testid`` / ``data-id`` / ``data-col`` / ``aria-sort`` attributes are used, so a
change of styling or markup that keeps the contract does not break the tests.
"""

from __future__ import annotations

import re
from typing import Any

from labharness import HarnessError, wait_until

STATUS_ROWS = re.compile(r"\b(\d[\d,]*) rows\b")  # "1,797 rows"
STATUS_VERSION = re.compile(r"\bv(\d+)\b")

# Rows of a grid with their vertical position and whether they intersect the scroll viewport.
_ROWS_JS = """(root) => {
    const scroll = root.querySelector('[data-testid="grid-scroll"]');
    const box = (scroll || root).getBoundingClientRect();
    return [...root.querySelectorAll('[data-testid="grid-row"]')].map(r => {
        const b = r.getBoundingClientRect();
        return {
            id: r.dataset.id,
            top: b.top,
            visible: b.height > 0 && b.bottom > box.top + 1 && b.top < box.bottom - 1,
        };
    }).sort((a, b) => a.top - b.top);
}"""


def grid_root(page: Any, nth: int = 0) -> Any:
    """The ``nth`` SampleGrid on the page, once it is attached."""
    root = page.get_by_test_id("dcai-grid").nth(nth)
    root.wait_for()
    return root


def status_text(grid: Any) -> str:
    return str(grid.get_by_test_id("grid-status").inner_text())


def status_numbers(grid: Any) -> tuple[int | None, int | None]:
    """(rows, version) read from the status line; None where not shown."""
    text = status_text(grid)
    rows = STATUS_ROWS.search(text)
    version = STATUS_VERSION.search(text)
    return (
        int(rows.group(1).replace(",", "")) if rows else None,
        int(version.group(1)) if version else None,
    )


def wait_status(
    grid: Any, *, rows: int | None = None, version: int | None = None, timeout: float = 30
) -> str:
    """Wait until the status line shows ``<rows> rows`` and/or ``v<version>``."""

    def ok() -> bool:
        r, v = status_numbers(grid)
        return (rows is None or r == rows) and (version is None or v == version)

    want = " and ".join(
        x for x in (rows is not None and f"{rows} rows", version is not None and f"v{version}") if x
    )
    wait_until(ok, timeout, f"grid-status to show {want}", describe=lambda: status_text(grid))
    return status_text(grid)


def rows_info(grid: Any) -> list[dict[str, Any]]:
    """Rendered rows, top to bottom: ``{"id": int, "top": float, "visible": bool}``."""
    out = grid.evaluate(_ROWS_JS)
    for r in out:
        r["id"] = int(r["id"])
    return list(out)


def rendered_ids(grid: Any, visible_only: bool = False) -> list[int]:
    """Sample ids of the rows in the DOM, top to bottom."""
    return [r["id"] for r in rows_info(grid) if r["visible"] or not visible_only]


def wait_rows(
    grid: Any, predicate: Any, what: str, timeout: float = 30, visible_only: bool = True
) -> list[int]:
    """Wait until ``predicate(ids)`` holds for the rendered ids (top to bottom); return them."""
    seen: list[list[int]] = [[]]

    def ok() -> bool:
        seen[0] = rendered_ids(grid, visible_only=visible_only)
        return bool(seen[0]) and bool(predicate(seen[0]))

    wait_until(ok, timeout, what, describe=lambda: f"ids {seen[0][:30]}")
    return seen[0]


def row(grid: Any, sample_id: int) -> Any:
    return grid.locator(f'[data-testid="grid-row"][data-id="{sample_id}"]')


def cell(grid: Any, sample_id: int, col: str) -> Any:
    return row(grid, sample_id).locator(f'[data-testid="cell"][data-col="{col}"]')


def cell_text(grid: Any, sample_id: int, col: str) -> str:
    return str(cell(grid, sample_id, col).inner_text()).strip()


def selected_label(grid: Any, sample_id: int) -> str:
    """Text of the selected option of a row's label dropdown."""
    sel = row(grid, sample_id).get_by_test_id("label-select")
    return str(sel.evaluate("s => s.selectedIndex < 0 ? '' : s.options[s.selectedIndex].text"))


def option_texts(grid: Any, sample_id: int) -> list[str]:
    sel = row(grid, sample_id).get_by_test_id("label-select")
    return list(sel.evaluate("s => [...s.options].map(o => o.text)"))


def scroll_to(grid: Any, fraction: float) -> None:
    """Scroll the grid's scroll container to ``fraction`` (0 = top, 1 = bottom) of its range."""
    grid.get_by_test_id("grid-scroll").evaluate(
        "(e, f) => { e.scrollTop = Math.round((e.scrollHeight - e.clientHeight) * f); "
        "e.dispatchEvent(new Event('scroll')); }",
        fraction,
    )


def header(grid: Any, col: str) -> Any:
    return grid.locator(f'[data-testid="header"][data-col="{col}"]')


def wait_aria_sort(grid: Any, col: str, value: str, timeout: float = 15) -> None:
    h = header(grid, col)
    wait_until(
        lambda: h.get_attribute("aria-sort") == value,
        timeout,
        f'header {col} aria-sort="{value}"',
        describe=lambda: repr(h.get_attribute("aria-sort")),
    )


def editor_root(page: Any, nth: int = 0) -> Any:
    root = page.get_by_test_id("dcai-editor").nth(nth)
    root.wait_for()
    return root


def editor_current(editor: Any) -> int:
    value = editor.get_by_test_id("editor-current").get_attribute("data-id")
    if value is None:
        raise HarnessError("editor-current has no data-id")
    return int(value)


def editor_progress(editor: Any) -> tuple[int, int] | None:
    m = re.search(r"(\d+)\s*/\s*(\d+)", str(editor.get_by_test_id("editor-progress").inner_text()))
    return (int(m.group(1)), int(m.group(2))) if m else None
