"""Source of the notebook cells the browser tests run (datasets and issue frames)."""

from __future__ import annotations

CLASSES = ["cat", "dog", "bird"]
XSS = "<img src=x onerror=alert(1)>"
XSS_FLAG = '<img src=x onerror="window.__dcai_xss=1">'
XSS_SCRIPT = "<script>window.__dcai_xss=2</script>"


def dataset(n: int, seed: int = 4) -> str:
    """A ``Dataset`` ``ds`` of ``n`` rows: ``n`` (int), ``x`` (float), ``text``, ``label``."""
    return f"""\
import numpy as np
import pandas as pd
import dcai_jupyter as dj

CLASSES = {CLASSES!r}
N = {n}
rng = np.random.default_rng({seed})
df = pd.DataFrame({{
    "n": np.arange(N, dtype=np.int64) * 7 % 997,
    "x": np.round(rng.normal(size=N), 2),
    "text": [f"sample {{i}}" for i in range(N)],
    "label": rng.choice(CLASSES, N),
}})
ds = dj.Dataset(df, label="label", classes=CLASSES, history=":memory:")
len(ds), ds.version
"""


def issues(n_flagged: int) -> str:
    """Label-issue ``Findings`` ``issues`` for ``ds``, shaped as ``ds.find_label_issues()`` makes
    them: the ``n_flagged`` samples of lowest (unique) label_quality flagged, each with a
    suggested label different from its own."""
    return f"""\
quality = (rng.permutation(len(ds)) + 0.5) / len(ds)
given = ds.column("label")
is_issue = quality < {n_flagged} / len(ds)
next_class = {{c: CLASSES[(i + 1) % len(CLASSES)] for i, c in enumerate(CLASSES)}}
suggested = np.array([next_class[g] if f else g for g, f in zip(given, is_issue)], dtype=object)
issues = dj.Findings(
    pd.DataFrame(
        {{
            "given_label": given,
            "suggested_label": suggested,
            "label_quality": quality,
            "score": 1 - quality,
            "is_issue": is_issue,
        }},
        index=pd.Index(ds.ids, name="sample_id"),
    ),
    op="label_issues",
    roles={{"score": "score", "flag": "is_issue", "suggestion": "suggested_label"}},
    action="relabel",
)
int(issues.is_issue.sum())
"""


GRID = "grid = dj.SampleGrid(ds)\ngrid"
GRID_ISSUES = "grid = dj.SampleGrid(ds, issues=issues)\ngrid"
