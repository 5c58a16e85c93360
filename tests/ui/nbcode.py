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
    version=ds.version,  # as ds.find_label_issues() stamps them
)
int(issues.is_issue.sum())
"""


GRID = "grid = dj.SampleGrid(ds)\ngrid"
GRID_ISSUES = "grid = dj.SampleGrid(ds, issues=issues)\ngrid"


#: duplicate groups (sample ids, keeper first) of :func:`duplicates`
DUP_GROUPS = {7: [40, 10, 70], 3: [6, 5], 9: [20, 90, 33, 60]}
#: how sure each match is (the keeper 0)
DUP_SCORES = {40: 0.0, 10: 0.6, 70: 0.95, 6: 0.0, 5: 0.7, 20: 0.0, 90: 0.8, 33: 0.3, 60: 0.81}


def duplicates() -> str:
    """Remove-family ``Findings`` ``dups`` with duplicate groups and keepers, its columns named
    unlike any label-issue column (the widgets read the declared roles, not names)."""
    return f"""\
groups = {DUP_GROUPS!r}
scores = {DUP_SCORES!r}
rows = [
    {{"sample_id": sid, "match": scores[sid], "drop": k > 0, "dup_of": g, "keep_me": k == 0,
      "why": "keeper" if k == 0 else f"same as {{members[0]}}"}}
    for g, members in groups.items()
    for k, sid in enumerate(members)
]
dups = dj.Findings(
    pd.DataFrame(rows).set_index("sample_id"),
    op="duplicates",
    roles={{"score": "match", "flag": "drop", "group": "dup_of", "keeper": "keep_me",
            "reason": "why"}},
    action="remove",
)
int(dups.flags.sum())
"""
