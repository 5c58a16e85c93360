"""What a grid shows: column kinds, the findings a widget is given, the schema of its columns.

A schema entry is ``{"name", "kind", "role", "sortable"}`` (plus ``"hidden"`` for feature
columns past the first :data:`MAX_FEATURE_COLUMNS`):

- ``kind`` says how a value is rendered: ``id``, ``image``, ``label``, ``number``, ``bool``,
  ``datetime``, ``text``, ``origin``;
- ``role`` says where it comes from: ``id``, ``image``, ``label``, ``text``, ``feature``
  (dataset columns), ``origin`` (``ds.origins``: rows an operation made) or ``finding``
  (a column of the :class:`~dcai_jupyter.core.Findings`, with ``"finding"`` naming its
  declared role: ``score``, ``flag``, ``suggestion``, ``group``, ``keeper``, ``reason``, or
  ``extra`` for its other columns, and ``"source"`` its name in the findings frame).

Nothing here knows a family of findings: columns are chosen from the declared roles.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dcai_jupyter.core import Findings

__all__ = [
    "FINDING_ORDER",
    "ID_COLUMN",
    "MAX_FEATURE_COLUMNS",
    "as_findings",
    "build_schema",
    "has_origins",
    "kind_of",
]

#: name of the sample-id column in the schema and in page answers
ID_COLUMN = "sample_id"
#: feature columns shown by default (the rest are listed in the schema as hidden)
MAX_FEATURE_COLUMNS = 40
#: roles of a Findings, in the order their columns are shown
FINDING_ORDER = ("suggestion", "score", "flag", "group", "keeper", "reason")

_WRAP_HINT = (
    "wrap it with dj.Findings(frame, op=..., roles=...), declaring which column is the "
    "score (higher = more suspicious) and which the flag, e.g. "
    "dj.Findings(frame, op='my_check', roles={'score': 'score', 'flag': 'is_issue', "
    "'suggestion': 'suggested_label'}, action='relabel')"
)


def as_findings(findings: Any = None, issues: Any = None) -> Findings | None:
    """The :class:`Findings` a widget was given as ``findings=`` or its alias ``issues=``.

    Raises
    ------
    TypeError
        Both were given, a plain DataFrame was given (its column roles are unknown), or
        the findings are not indexed by integer sample ids.
    """
    if findings is not None and issues is not None:
        raise TypeError("pass findings= or its alias issues=, not both")
    value = findings if findings is not None else issues
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        raise TypeError(f"findings must be a dj.Findings, not a plain DataFrame: {_WRAP_HINT}")
    if not isinstance(value, Findings):
        raise TypeError(
            f"findings must be a dj.Findings (e.g. from ds.find_label_issues()), got "
            f"{type(value).__name__}"
        )
    if len(value) and value.frame.index.dtype.kind not in "iu":
        raise TypeError(
            f"findings must be indexed by sample id (integers); the index is "
            f"{value.frame.index.dtype}"
        )
    return value


def kind_of(values: Any) -> str:
    """Render kind of a column: ``number``, ``bool``, ``datetime`` or ``text``."""
    dtype = getattr(values, "dtype", None)
    if dtype is None:
        dtype = np.asarray(values).dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "datetime"
    return "text"


def has_origins(ds: Any) -> bool:
    """Whether some row of ``ds`` was made by an operation (synthetic, augmented, pseudo-labeled)."""
    origins = getattr(ds, "origins", None)
    return origins is not None and len(origins) > 0


def _finding_columns(findings: Findings, taken: set[str]) -> list[dict[str, Any]]:
    frame = findings.frame
    out: list[dict[str, Any]] = []
    by_role = [(role, findings.roles[role]) for role in FINDING_ORDER if role in findings.roles]
    used = {source for _, source in by_role}
    extras = [("extra", str(c)) for c in frame.columns if c not in used]
    for role, source in [*by_role, *extras]:
        if role in ("score",):
            kind = "number"
        elif role in ("flag", "keeper"):
            kind = "bool"
        elif role == "suggestion" and findings.action in ("relabel", "label"):
            kind = "label"
        elif role == "reason":
            kind = "text"
        else:
            kind = kind_of(frame[source])
        name = source
        if name in taken:  # a findings column named like a dataset column
            name = f"{source} ({findings.op})"
        taken.add(name)
        out.append(
            {
                "name": name,
                "kind": kind,
                "role": "finding",
                "finding": role,
                "source": source,
                "sortable": True,
            }
        )
    return out


def build_schema(
    ds: Any, findings: Findings | None = None, *, origins: bool = False
) -> list[dict[str, Any]]:
    """Columns shown by a grid, in display order; no row data is read.

    Parameters
    ----------
    ds : Dataset
        The dataset (its label, image, text and feature columns).
    findings : Findings, optional
        Shown after the label: its role columns (suggestion, score, flag, group, keeper,
        reason), then its other columns.
    origins : bool
        Add the ``origin`` column (where an operation made the row or its label).
    """
    schema: list[dict[str, Any]] = [
        {"name": ID_COLUMN, "kind": "id", "role": "id", "sortable": True}
    ]
    image = getattr(ds, "image_column", None)
    text = getattr(ds, "text_column", None)
    if image:
        schema.append({"name": image, "kind": "image", "role": "image", "sortable": False})
    schema.append({"name": ds.label, "kind": "label", "role": "label", "sortable": True})
    taken = {ID_COLUMN, *map(str, ds.columns)}
    if findings is not None:
        schema.extend(_finding_columns(findings, taken))
    if origins:
        name = "origin" if "origin" not in taken else "row origin"
        taken.add(name)
        schema.append({"name": name, "kind": "origin", "role": "origin", "sortable": True})
    if text:
        schema.append({"name": text, "kind": "text", "role": "text", "sortable": True})
    features = [c for c in ds.feature_columns if c not in (image, text, ds.label, ID_COLUMN)]
    # identifier-like and further text columns are not features, but a person reads them
    roles = getattr(ds, "roles", None) or {}
    features += [
        c
        for c, r in roles.items()
        if r in ("id", "text") and c not in features and c not in (image, text, ID_COLUMN)
    ]
    for i, name in enumerate(features):
        kind = kind_of(ds.column(name))
        entry = {"name": str(name), "kind": kind, "role": "feature", "sortable": True}
        if i >= MAX_FEATURE_COLUMNS:
            entry["hidden"] = True
        schema.append(entry)
    return schema
