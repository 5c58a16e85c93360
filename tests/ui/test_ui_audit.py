"""AuditReport in a real JupyterLab (network closed): one row per issue type with counts and
a chart, a click opens a SampleGrid filtered to that type's flagged findings, an action
button does the type's action after a confirming second click. Text only, no script runs.
"""

from __future__ import annotations

import nbcode
import pytest
from labharness import wait_until
from uidom import grid_root, rendered_ids

pytestmark = pytest.mark.ui

DATA = f"""\
import numpy as np
import pandas as pd
import dcai_jupyter as dj
from sklearn.datasets import make_blobs

X, y = make_blobs(n_samples=240, centers=3, n_features=3, random_state=0)
df = pd.DataFrame(X, columns=["a", "b", "c"])
df["label"] = np.array(["cat", "dog", "bird"], dtype=object)[y]
df.loc[[3, 50, 77, 120, 200], "label"] = ["dog", "bird", "cat", "cat", "dog"]
df.loc[[10, 11, 12], ["a", "b", "c"]] = np.nan
df[{nbcode.XSS_FLAG!r}] = [f"k{{i:04d}}" for i in range(len(df))]
ds = dj.Dataset(df, label="label", history=":memory:", roles={{{nbcode.XSS_FLAG!r}: "categorical"}})
audit = ds.audit(progress=False)
len(audit)
"""
REPORT = "report = dj.AuditReport(audit)\nreport"


def _flagged(nb, kind: str) -> list[int]:
    return sorted(int(i) for i in nb.kernel.eval(f"[int(i) for i in audit[{kind!r}].flagged.ids]"))


def test_audit_report_rows_open_a_filtered_grid_and_act(notebook):
    nb = notebook([DATA, REPORT])
    page = nb.page
    report = page.get_by_test_id("audit-report")
    report.wait_for()
    rows = report.get_by_test_id("audit-row")
    n_types = int(nb.kernel.eval("len(audit.summary)"))
    wait_until(lambda: rows.count() == n_types, 20, f"{n_types} audit rows")

    # counts as the kernel has them, a chart per type, the injected column name as text
    null_ids = _flagged(nb, "null")
    label_ids = _flagged(nb, "label")
    assert null_ids == [10, 11, 12] and label_ids
    null_row = report.locator('[data-testid="audit-row"][data-type="null"]')
    label_row = report.locator('[data-testid="audit-row"][data-type="label"]')
    assert null_row.get_by_test_id("audit-count").inner_text() == "3"
    assert label_row.get_by_test_id("audit-count").inner_text() == str(len(label_ids))
    assert report.locator("svg.dcai-audit-chart").count() >= n_types - 2
    ident = report.locator('[data-testid="audit-row"][data-type="identifier"]').inner_text()
    assert nbcode.XSS_FLAG in ident  # shown as text ...
    assert page.evaluate("window.__dcai_xss") is None  # ... never run
    assert report.get_by_test_id("audit-error").inner_text() == ""

    # a click on a row opens a grid of that type's findings, flagged rows only
    null_row.click()
    assert nb.kernel.wait_for("report.table.selected == 'null'", what="null opened")
    grid = grid_root(page)
    wait_until(
        lambda: sorted(rendered_ids(grid)) == null_ids,
        30,
        "the grid shows the null findings only",
        describe=lambda: str(rendered_ids(grid)),
    )
    assert null_row.get_attribute("aria-selected") == "true"

    # another row replaces the grid with its own findings
    label_row.click()
    assert nb.kernel.wait_for("report.table.selected == 'label'", what="label opened")
    wait_until(
        lambda: sorted(rendered_ids(grid_root(page))) == label_ids,
        30,
        "the grid shows the label findings only",
        describe=lambda: str(rendered_ids(grid_root(page))),
    )
    assert page.get_by_test_id("dcai-grid").count() == 1

    # the action button asks to confirm, then removes the null rows in one change
    button = null_row.get_by_test_id("audit-action")
    assert button.inner_text() == "Remove 3"
    button.click()
    wait_until(lambda: "Confirm" in button.inner_text(), 10, "a confirming second click")
    assert int(nb.kernel.eval("ds.version")) == 0
    button.click()
    assert nb.kernel.wait_for("ds.version == 1 and len(ds) == 237", what="the null rows removed")
    status = report.get_by_test_id("audit-status")
    wait_until(lambda: "version 1" in status.inner_text(), 20, "the status says what was done")
    assert nb.kernel.eval("ds.history.changes['op'].tolist()") == ["remove_null"]
