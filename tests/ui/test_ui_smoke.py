"""Harness smoke test: an anywidget defined in the notebook, clicked, read from the kernel."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.ui

COUNTER = '''
import anywidget
import traitlets


class Counter(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const btn = document.createElement("button");
      btn.dataset.testid = "smoke-button";
      const show = () => { btn.textContent = "count " + model.get("value"); };
      btn.addEventListener("click", () => {
        model.set("value", model.get("value") + 1);
        model.save_changes();
      });
      model.on("change:value", show);
      show();
      el.appendChild(btn);
    }
    export default { render };
    """
    value = traitlets.Int(0).tag(sync=True)


counter = Counter()
counter
'''


def test_harness_smoke(notebook):
    nb = notebook(["x = 40 + 2", COUNTER])
    assert nb.kernel.eval("x") == 42
    button = nb.page.get_by_test_id("smoke-button")
    button.wait_for()
    for _ in range(3):
        button.click()
    assert nb.kernel.wait_for("counter.value == 3 and counter.value", what="3 clicks in kernel")
    # a change made in the kernel reaches the page
    nb.kernel.run("counter.value = 10")
    button.filter(has_text="count 10").wait_for()
    # a cell typed into the notebook runs in the same kernel
    nb.run_cell("y = x * 2\nprint(y)")
    assert nb.kernel.eval("y") == 84
