"""Column roles: what each column of a dataset is, detected from its values and overridable.

A role says how the operations read a column:

- ``label``: the label column;
- ``numeric``: numbers (booleans included);
- ``categorical``: a set of values, any cardinality (strings, pandas categoricals);
- ``text``: free text (strings of several words, mostly distinct);
- ``image``: 2-D/3-D arrays, PNG/JPEG bytes, PIL images or image paths;
- ``datetime``: timestamps (or date strings);
- ``embedding``: 1-D numeric arrays of one length (a vector a user's model made);
- ``id``: an identifier (unique per row: row numbers, codes, person names): left out of
  the features, with a notice saying how to include it;
- ``ignored``: left out (``ignore=``, not among ``features=``, or only missing values).

Detection uses numpy and pandas only; the encoding of each role lives in the operations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FEATURE_ROLES", "ROLE_NAMES", "Roles", "detect_roles"]

ROLE_NAMES = (
    "label",
    "numeric",
    "categorical",
    "text",
    "image",
    "datetime",
    "embedding",
    "id",
    "ignored",
)
#: roles the models read as features by default (text and image are read too, through
#: their own encodings)
FEATURE_ROLES = ("numeric", "categorical", "datetime", "embedding")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
#: column names that say "identifier"
_ID_NAME = re.compile(
    r"^(id|ids|uid|uuid|guid|key|index|rownames|row_?names?|row_?id|unnamed: ?0)$"
    r"|(^|[_ .-])(id|uuid|guid)$",
    re.IGNORECASE,
)
_DATE_STRING = re.compile(
    r"^\s*(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}/\d{1,2}/\d{2,4})\s*$"
)
#: a string column is text when its values average this many words (or characters) and
#: most of them are distinct
TEXT_MIN_WORDS = 3.0
TEXT_MIN_CHARS = 20.0
#: ... more than this many distinct values (or more than half the rows)
TEXT_MIN_DISTINCT = 50
#: a column whose values are distinct on at least this share of rows may be an identifier
ID_UNIQUE_SHARE = 0.95
#: below this many rows nothing is called an identifier from its values alone
ID_MIN_ROWS = 20


class Roles(dict[str, str]):
    """Column -> role, in column order, with the reason of each decision (``why``).

    ``roles.of("text")`` lists the columns of one role. Printed as a table.
    """

    def __init__(self, roles: Mapping[str, str], why: Mapping[str, str]) -> None:
        super().__init__(roles)
        self.why = dict(why)

    def of(self, *roles: str) -> list[str]:
        """The columns whose role is one of ``roles``, in column order."""
        return [c for c, r in self.items() if r in roles]

    def frame(self) -> pd.DataFrame:
        """A frame: one row per column with its role and the reason."""
        return pd.DataFrame(
            {"role": list(self.values()), "why": [self.why.get(c, "") for c in self]},
            index=pd.Index(list(self), name="column"),
        )

    def __repr__(self) -> str:
        if not self:
            return "Roles()"
        w = max(len(str(c)) for c in self)
        lines = [f"{c!s:<{w}}  {r:<11}  {self.why.get(c, '')}".rstrip() for c, r in self.items()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.frame().to_html(escape=True)  # column names are the user's text


def _present(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind in "fc":
        return arr[~np.isnan(arr)]
    if arr.dtype.kind in "biumM":
        return arr[~pd.isna(arr)] if arr.dtype.kind in "mM" else arr
    return arr[~np.asarray(pd.isna(arr), dtype=bool)]


def _is_int_like(values: np.ndarray) -> bool:
    if values.dtype.kind in "iu":
        return True
    if values.dtype.kind == "f":
        return bool(np.all(np.mod(values, 1) == 0))
    return False


def _detect_one(name: str, arr: np.ndarray, dtype: Any) -> tuple[str, str]:
    """The role of one (non-label) column and why."""
    n = len(arr)
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical", f"pandas categorical ({len(dtype.categories)} categories)"
    if arr.dtype.kind == "b" or pd.api.types.is_bool_dtype(dtype):
        return "numeric", "booleans (0/1)"
    if arr.dtype.kind in "mM" or pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime", "timestamps (used as calendar parts)"
    present = _present(arr)
    if len(present) == 0:
        return "ignored", "only missing values"
    if arr.dtype.kind in "iuf" or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_object_dtype(dtype)
    ):
        values = np.asarray(present, dtype=np.float64)
        n_unique = len(np.unique(values))
        if (
            n >= ID_MIN_ROWS
            and n_unique == n
            and _is_int_like(values)
            and (
                _ID_NAME.search(name)
                or (arr.dtype.kind in "iu" and values.max() - values.min() == n - 1)
            )
        ):
            why = "row numbers" if values.max() - values.min() == n - 1 else "id name"
            return "id", f"distinct integers on every row ({why})"
        return "numeric", "numbers"
    sample = present[:200]
    first = sample[0]
    if isinstance(first, np.ndarray) or isinstance(first, (list, tuple)):
        arrays = [np.asarray(v) for v in sample if isinstance(v, (np.ndarray, list, tuple))]
        if arrays and all(a.ndim == 1 for a in arrays) and len({a.shape for a in arrays}) == 1:
            if all(a.dtype.kind in "biuf" for a in arrays):
                return "embedding", f"numeric vectors of length {arrays[0].shape[0]}"
        if arrays and all(a.ndim in (2, 3) for a in arrays):
            return "image", "2-D/3-D arrays"
        return "ignored", "array cells of mixed shapes or types"
    if isinstance(first, (bytes, bytearray)) and (
        first[:8] == b"\x89PNG\r\n\x1a\n" or first[:3] == b"\xff\xd8\xff"
    ):
        return "image", "PNG/JPEG bytes"
    if type(first).__module__.startswith("PIL."):
        return "image", "PIL images"
    if isinstance(first, pd.Timestamp):
        return "datetime", "timestamps (used as calendar parts)"
    kinds = {type(v) for v in sample}
    if all(issubclass(k, str) for k in kinds):
        strs = [str(v) for v in present]
        if str(first).lower().endswith(IMAGE_SUFFIXES) and all(
            s.lower().endswith(IMAGE_SUFFIXES) for s in strs[:50]
        ):
            return "image", "image file paths"
        if np.mean([bool(_DATE_STRING.match(s)) for s in strs[:200]]) >= 0.95:
            return "datetime", "date strings (used as calendar parts)"
        n_unique = len(set(strs))
        words = float(np.mean([len(s.split()) for s in strs[:2000]]))
        chars = float(np.mean([len(s) for s in strs[:2000]]))
        wordy = words >= TEXT_MIN_WORDS or chars >= TEXT_MIN_CHARS
        many = n_unique > min(TEXT_MIN_DISTINCT, 0.5 * len(strs))
        if wordy and many:
            return "text", f"free text ({words:.1f} words on average, {n_unique} distinct)"
        if len(strs) >= ID_MIN_ROWS and n_unique >= ID_UNIQUE_SHARE * n and not wordy:
            return "id", f"a distinct short string on {n_unique / n:.0%} of rows"
        return "categorical", f"{n_unique} distinct values"
    if all(issubclass(k, (bool, np.bool_, int, float, np.integer, np.floating)) for k in kinds):
        return "numeric", "numbers"
    try:
        n_unique = len(set(present.tolist()))
    except TypeError:
        return "ignored", f"cells of type {type(first).__name__} that cannot be compared"
    return "categorical", f"{n_unique} distinct values"


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def detect_roles(
    arrays: Mapping[str, np.ndarray],
    dtypes: Mapping[str, Any],
    label: str,
    *,
    features: Sequence[str] | None = None,
    text: str | Sequence[str] | None = None,
    image: str | Sequence[str] | None = None,
    ignore: Iterable[str] | None = None,
    roles: Mapping[str, str] | None = None,
) -> Roles:
    """The role of every column (see the module docstring).

    Precedence: ``roles`` (explicit per column) > ``ignore`` > ``text`` / ``image`` >
    detection. With ``features`` given, a listed column is a feature whatever its values
    (an identifier becomes categorical or numeric) and an unlisted column that is not text
    or an image is ``ignored``.
    """
    columns = list(arrays)
    explicit = dict(roles or {})
    bad = {c: r for c, r in explicit.items() if r not in ROLE_NAMES or r == "label"}
    if bad:
        raise ValueError(
            f"unknown roles {bad}; a role is one of {[r for r in ROLE_NAMES if r != 'label']}"
        )
    ignored = set(ignore or ())
    texts, images = _as_list(text), _as_list(image)
    feats = None if features is None else list(features)
    for what, cols in (
        ("roles", list(explicit)),
        ("ignore", sorted(ignored)),
        ("text", texts),
        ("image", images),
        ("feature", feats or []),
    ):
        unknown = [c for c in cols if c not in arrays]
        if len(unknown) == 1 and what in ("text", "image"):
            raise KeyError(f"{what} column {unknown[0]!r} not in the frame; columns are {columns}")
        if unknown:
            raise KeyError(f"{what} columns {unknown} not in the frame; columns are {columns}")
    out: dict[str, str] = {}
    why: dict[str, str] = {}
    for c in columns:
        if c == label:
            out[c], why[c] = "label", "the label"
        elif c in explicit:
            out[c], why[c] = explicit[c], "given (roles=)"
        elif c in ignored:
            out[c], why[c] = "ignored", "given (ignore=)"
        elif c in texts:
            out[c], why[c] = "text", "given (text=)"
        elif c in images:
            out[c], why[c] = "image", "given (image=)"
        else:
            role, reason = _detect_one(c, arrays[c], dtypes.get(c))
            if feats is not None:
                if c in feats and role in ("id", "ignored"):
                    kind = arrays[c].dtype.kind
                    role = "numeric" if kind in "biuf" else "categorical"
                    reason = f"given (features=); detected: {reason}"
                elif c not in feats and role not in ("text", "image"):
                    role, reason = "ignored", f"not in features= ({reason})"
            out[c], why[c] = role, reason
    return Roles(out, why)
