"""A SampleGrid displayed before a kernel restart says it is disconnected, not silently stale.

js/src/shared.js (Channel) marks a view "gone" when the widget manager's kernel reports
restarting / starting / dead, or the model's comm closes; a request unanswered for 10 s marks
it "stale". Either way grid.js shows ``data-testid="grid-stale"`` with "Disconnected: ...".

From Lab's own Kernel menu the page sets "restarting" itself. After a restart by the REST
API (another client) the page may only learn of it from the new kernel's "starting" status on
iopub, which the server can miss (about 1 run in 5 here): then the idle view's heartbeat ping
goes unanswered and the view turns stale. Either way the notice must come without any
interaction.
"""

from __future__ import annotations

import time

import nbcode
import pytest
from labharness import LabNotebook, wait_until
from labrestart import restart_by_api, restart_from_menu, run_all_after_restart
from uidom import grid_root, rendered_ids, wait_rows, wait_status

pytestmark = pytest.mark.ui

STALE_BOUND = 25.0  # s: shared.js pings an idle view every 4 s and goes stale after 10 s


def _stale_text(grid) -> str:
    box = grid.get_by_test_id("grid-stale")
    return str(box.inner_text()) if box.count() and box.is_visible() else ""


@pytest.mark.parametrize("how", ["menu", "api"])
def test_grid_shows_disconnected_after_restart(notebook, how):
    """``menu``: Kernel > Restart Kernel in this page; ``api``: the REST API (as another
    client would restart it: the page then only sees the kernel come back as "starting")."""
    nb: LabNotebook = notebook([nbcode.dataset(300), nbcode.GRID])
    grid = grid_root(nb.page)
    wait_status(grid, rows=300, version=0)
    before = wait_rows(grid, lambda ids: ids[0] == 0, "the first page")
    assert _stale_text(grid) == "", "stale notice on a live grid"

    t0 = time.perf_counter()
    (restart_from_menu if how == "menu" else restart_by_api)(nb)
    t_restart = time.perf_counter() - t0

    def disconnected() -> bool:
        return "Disconnected" in _stale_text(grid)

    what = 'a visible grid-stale notice containing "Disconnected" after the restart'

    def seen() -> str:
        box = grid.get_by_test_id("grid-stale")
        return f"grid-stale visible={box.is_visible()} text={box.inner_text()!r}"

    wait_until(disconnected, STALE_BOUND, what, describe=seen)
    t_notice = time.perf_counter() - t0
    notice = _stale_text(grid)
    # the old rows may stay on screen, but only under the notice
    assert rendered_ids(grid)[:3] == before[:3]
    print(
        f"\n[ui] restart ({how}) took {t_restart:.1f} s; notice {t_notice:.1f} s after the "
        f"restart began: {notice!r}"
    )

    # re-running the cell gives a live view again
    run_all_after_restart(nb, 2, "'grid' in globals()")
    grid = grid_root(nb.page)
    wait_status(grid, rows=300, version=0)
    wait_rows(grid, lambda ids: ids[0] == 0, "the first page of the re-run grid")
    assert _stale_text(grid) == "", "the re-run grid shows the stale notice"
