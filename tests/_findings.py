"""Label-issue findings made by hand for the widget tests: digits 0-9, the first rows flagged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import dcai_jupyter as dj


def digit_findings(
    n: int,
    n_flagged: int,
    *,
    history: Any = ":memory:",
    name: str | None = None,
    x_step: float = 1.0,
    version: int | None = 0,
) -> tuple[dj.Dataset, dj.Findings]:
    """A dataset of ``n`` rows labelled ``i % 10`` and label-issue findings on it: the first
    ``n_flagged`` rows flagged with the next digit as the suggestion, scores falling with the
    row (the first row is the most suspicious). ``version``: the dataset version the findings
    say they were made at (the new dataset's, 0); what was relabeled since then is resolved."""
    df = pd.DataFrame({"x": np.arange(n) * x_step, "label": np.arange(n) % 10})
    kw = {} if name is None else {"name": name}
    ds = dj.Dataset(df, label="label", classes=list(range(10)), history=history, **kw)
    given = np.array(ds.column("label"))
    flag = np.arange(n) < n_flagged
    frame = pd.DataFrame(
        {
            "given_label": given,
            "suggested_label": np.where(flag, (given + 1) % 10, given),
            "is_issue": flag,
            "score": 1.0 - np.arange(n) / n,
        },
        index=pd.Index(ds.ids, name="sample_id"),
    )
    roles = {"score": "score", "flag": "is_issue", "suggestion": "suggested_label"}
    found = dj.Findings(frame, op="label_issues", roles=roles, action="relabel", version=version)
    return ds, found
