"""``Change``: one recorded change (op name, JSON params, exact deltas), and its builder.

An operation never edits a dataset: it *plans* a ``Change`` on a working copy of the
state with :class:`ChangePlan` (``ds.plan(op, params)``) and the dataset applies it with
``ds.apply(change)``, which records it in the history and then swaps the state in, or
does nothing at all if anything fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import _codec
from . import _fingerprint as fpr
from ._table import Table, _to_internal
from ._validate import ids_array, labels_array

_COUNT_NAMES = {"set": "relabeled", "del": "removed", "ins": "added"}
#: the nullable dtype an integer or bool label column becomes when unlabeled rows arrive
_NULLABLE = {"b": "boolean", "i": "Int64", "u": "UInt64"}


@dataclass(frozen=True)
class Change:
    """One change to a dataset, exactly as the history records it.

    Attributes
    ----------
    op
        The operation's name (``relabel``, ``remove``, ``add``, ``update``,
        ``accept_suggestions``, ...): the key of the registry that replays it.
    params
        JSON-serializable parameters, enough for recipe replay to re-run the operation.
    deltas
        The exact deltas (see ``dcai_jupyter.core._table``): old and new values, enough to
        undo the change bit for bit.
    base
        The fingerprint of the state the change was planned on; ``ds.apply`` refuses a
        change planned on another state.
    fingerprint
        The fingerprint after the change.
    """

    op: str
    params: dict[str, Any]
    deltas: tuple[dict[str, Any], ...]
    base: str
    fingerprint: str
    _table: Table | None = field(default=None, repr=False, compare=False)
    _planned: tuple[int, int] | None = field(default=None, repr=False, compare=False)
    _encoded: str | None = field(default=None, repr=False, compare=False)

    @property
    def ids(self) -> list[int]:
        """Every sample id the change touches, in delta order (without repeats)."""
        seen: dict[int, None] = {}
        for d in self.deltas:
            for i in d["i"]:
                seen[int(i)] = None
        return list(seen)

    @property
    def n_rows(self) -> int:
        return len(self.ids)

    @property
    def empty(self) -> bool:
        return not self.deltas

    def counts(self) -> dict[str, int]:
        """Rows per kind: ``relabeled``, ``updated``, ``removed``, ``added``."""
        out: dict[str, int] = {}
        for d in self.deltas:
            if d["t"] not in _COUNT_NAMES:
                continue  # a dtype change touches no row
            kind = "updated" if d["t"] == "set" and "c" in d else _COUNT_NAMES[d["t"]]
            out[kind] = out.get(kind, 0) + len(d["i"])
        return out

    def __repr__(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.counts().items()) or "no rows"
        return f"Change({self.op!r}, {counts}, params={self.params!r})"


class ChangePlan:
    """Builds one :class:`Change` step by step on a copy of a dataset's state.

    Each step (``relabel``, ``update``, ``remove``, ``add``) validates its input as the
    dataset's own method would and applies it to the copy, so later steps see earlier
    ones (an added row can be relabeled). Nothing touches the dataset until
    ``ds.apply(plan.change())``.
    """

    def __init__(
        self,
        work: Table,
        op: str,
        params: dict[str, Any] | None = None,
        *,
        classes: list[Any] | None = None,
        planned: tuple[int, int] | None = None,
    ) -> None:
        """Plan on ``work`` (a copy of the dataset's table, which this plan then owns);
        ``classes`` are the declared classes, ``planned`` the (dataset id, version) token
        that lets ``ds.apply`` reuse the planned state."""
        if not isinstance(op, str) or not op:
            raise ValueError("a change needs an op name (a non-empty string)")
        self.op = op
        self.params = dict(params or {})
        try:
            _codec.dumps(self.params)
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"the params of change {op!r} cannot be recorded in the history ({e}); pass "
                "JSON values: numbers, strings, lists and dicts of them"
            ) from None
        self._base = fpr.to_hex(work.fingerprint())
        self._planned = planned
        self._classes = classes
        self._work = work
        self._deltas: list[dict[str, Any]] = []
        self._texts: list[str] = []

    # ------------------------------------------------------------------ steps
    def relabel(self, ids: Any, labels: Any, *, origin: str | None = None) -> ChangePlan:
        """Set the label of ``ids``; ``origin`` marks labels no person gave (``"pseudo"``)."""
        t = self._work
        pos = t.positions(ids_array(ids))
        new = labels_array(t, self._classes, labels, len(pos))
        old = t.arrays[t.label][pos]
        old_origin = [t.label_origin.get(int(i)) for i in t.ids[pos]]
        changed = ~_equal(old, new) | np.array(
            [o != origin for o in old_origin], dtype=bool
        ).reshape(len(pos))
        if not changed.any():
            return self
        pos, new, old = pos[changed], new[changed], old[changed]
        ids_list = t.ids[pos].tolist()
        delta: dict[str, Any] = {
            "t": "set",
            "i": ids_list,
            "o": _codec.encode_array(old),
            "n": _codec.encode_array(new),
        }
        olds = [o for o, c in zip(old_origin, changed, strict=True) if c]
        if origin is not None:
            delta["g"] = [origin] * len(ids_list)
        if any(o is not None for o in olds):
            delta["og"] = olds
        self._step(delta)
        return self

    def unlabel(self, ids: Any) -> ChangePlan:
        """Clear the label of ``ids``: the rows go back to the unlabeled pool."""
        t = self._work
        pos = t.positions(ids_array(ids))
        old = t.arrays[t.label][pos]
        has = ~pd.isna(pd.Series(old, dtype=object)).to_numpy(dtype=bool)
        if not has.any():
            return self
        self._nullable_label()
        pos, old = pos[has], t.arrays[t.label][pos[has]]
        missing: Any = np.nan if t.arrays[t.label].dtype.kind == "f" else None
        new = np.empty(len(pos), dtype=t.arrays[t.label].dtype)
        new[:] = missing
        ids_list = t.ids[pos].tolist()
        delta: dict[str, Any] = {
            "t": "set",
            "i": ids_list,
            "o": _codec.encode_array(old),
            "n": _codec.encode_array(new),
        }
        olds = [t.label_origin.get(int(i)) for i in ids_list]
        if any(o is not None for o in olds):
            delta["og"] = olds
        self._step(delta)
        return self

    def _nullable_label(self) -> None:
        """Make an integer or bool label column nullable (a recorded dtype step)."""
        t = self._work
        kind = t.arrays[t.label].dtype.kind
        if kind in _NULLABLE:
            self._step(
                {
                    "t": "dt",
                    "c": t.label,
                    "i": [],
                    "o": str(t.dtypes[t.label]),
                    "n": _NULLABLE[kind],
                }
            )

    def update(self, ids: Any, column: str, values: Any) -> ChangePlan:
        """Set ``column`` (a feature or display column, not the label) for ``ids``."""
        t = self._work
        if column == t.label:
            raise ValueError(f"{column!r} is the label column; use relabel() to change labels")
        if column not in t.arrays:
            raise KeyError(f"no column {column!r}; columns are {t.columns}")
        pos = t.positions(ids_array(ids))
        new = _column_values(t, column, values, len(pos))
        old = t.arrays[column][pos]
        changed = ~_equal(old, new)
        if not changed.any():
            return self
        pos, new, old = pos[changed], new[changed], old[changed]
        self._step(
            {
                "t": "set",
                "c": column,
                "i": t.ids[pos].tolist(),
                "o": _codec.encode_array(old),
                "n": _codec.encode_array(new),
            }
        )
        return self

    def remove(self, ids: Any) -> ChangePlan:
        """Remove rows; their ids are never reused."""
        t = self._work
        pos = np.sort(t.positions(ids_array(ids)))
        if len(pos) == 0:
            return self
        ids_list = t.ids[pos].tolist()
        delta = {"t": "del", "i": ids_list, "p": pos.tolist(), "r": t.rows_for(pos)}
        delta.update(t.meta_for(ids_list))
        self._step(delta)
        return self

    def add(
        self,
        rows: pd.DataFrame,
        *,
        origin: str | None = None,
        source_ids: Sequence[int] | None = None,
        label_origin: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Append rows with new ids (returned); ``origin`` tags rows an operation made.

        ``source_ids`` names, per row, the sample a derived row was made from (an augmented
        copy); ``label_origin`` marks labels no person gave. ``progress(k)`` (a bar's
        ``update``) is called as the rows are recorded, ``k`` rows at a time (the calls add
        up to the number of rows; the last one once the rows are in the planned state):
        encoding a million rows for the history takes seconds.
        """
        t = self._work
        if not isinstance(rows, pd.DataFrame):
            raise TypeError(f"add() takes a DataFrame of rows; got {type(rows).__name__}")
        if len(rows) == 0:
            return np.empty(0, dtype=np.int64)
        if t.label not in rows.columns:
            # rows without a label column are unlabeled: they join the pool
            rows = rows.assign(
                **{t.label: pd.Series([None] * len(rows), index=rows.index, dtype=object)}
            )
        if rows[t.label].isna().any():
            self._nullable_label()
        internal = t.rows_from_frame(rows)
        lab = internal[t.label]
        present = ~pd.isna(lab)
        given = (
            lab[present]  # integer labels: checked as one array
            if isinstance(lab, np.ndarray) and lab.dtype.kind in "iu"
            else [v for v, p in zip(lab, present, strict=True) if p]
        )
        labels_array(t, self._classes, given, int(present.sum()))
        new_ids = np.arange(t.next_id, t.next_id + len(rows), dtype=np.int64)
        pos = np.arange(len(t), len(t) + len(rows), dtype=np.int64)
        delta: dict[str, Any] = {
            "t": "ins",
            "i": new_ids.tolist(),
            "p": pos.tolist(),
            "r": {c: _codec.encode_array(a) for c, a in internal.items()},
        }
        n = len(rows)
        if origin is not None:
            delta["g"] = [str(origin)] * n
        if source_ids is not None:
            src = [int(s) for s in source_ids]
            if len(src) != n:
                raise ValueError(f"got {len(src)} source ids for {n} rows")
            t.positions(src)  # KeyError naming unknown sources
            delta["s"] = src
        if label_origin is not None:
            delta["lg"] = [str(label_origin) if p else None for p in present]
        self._step(delta, progress, n)
        return new_ids

    # ------------------------------------------------------------------ result
    def change(self) -> Change:
        """The planned change (empty when no step changed anything)."""
        return Change(
            self.op,
            dict(self.params),
            tuple(self._deltas),
            self._base,
            fpr.to_hex(self._work.fingerprint()),
            self._work,
            self._planned,
            "[" + ",".join(self._texts) + "]",
        )

    def _step(
        self, delta: dict[str, Any], progress: Callable[[int], None] | None = None, n: int = 0
    ) -> None:
        # Encode once (the history stores this text), then apply from the stored form:
        # memory equals what a replay produces.
        held = [0]  # the last piece's rows are reported once the delta is applied
        if progress is None:
            text = _codec.dumps(delta)
        else:
            report = progress

            def piece(k: int) -> None:
                if held[0]:
                    report(held[0])
                held[0] = k

            text = _codec.dumps_rows(delta, n, piece)
        self._work.apply_delta(delta)
        if progress is not None and held[0]:
            progress(held[0])
        self._deltas.append(delta)
        self._texts.append(text)


def _column_values(t: Table, column: str, values: Any, n: int) -> np.ndarray:
    """``values`` for ``n`` rows of ``column``, in the column's dtype; clear errors.

    A single value (a scalar, a string, or one image array for an object column) is
    repeated for every row; otherwise one value per row. Arrays are copied and frozen, so
    the caller's arrays stay theirs.
    """
    is_object = t.arrays[column].dtype == object
    if isinstance(values, (str, bytes)) or (
        not isinstance(values, (list, tuple, pd.Series, pd.Index, np.ndarray))
    ):
        vals = [values] * n
    elif isinstance(values, np.ndarray) and is_object and values.dtype != object:
        if values.ndim == 1 and n != 1:
            vals = list(values)  # n numbers for an object column
        elif n == 1 and values.ndim >= 1:
            vals = [values]  # one array value (an image) for one row
        else:
            raise ValueError(
                f"column {column!r} holds one object per row: pass a list of {n} values "
                f"(e.g. a list of arrays), not one array of shape {values.shape}"
            )
    elif isinstance(values, np.ndarray):
        vals = list(values)
    else:
        vals = list(values.tolist() if isinstance(values, (pd.Series, pd.Index)) else values)
    if len(vals) != n:
        raise ValueError(f"got {len(vals)} values for {n} ids; pass one value per id")
    dt = t.dtypes[column]
    if is_object and not isinstance(dt, pd.CategoricalDtype):
        if pd.api.types.is_string_dtype(dt) and not isinstance(dt, np.dtype):
            bad = [v for v in vals if not isinstance(v, str) and not _codec.is_missing(v)]
            if bad:
                raise ValueError(f"column {column!r} holds strings; got {bad[:5]!r}")
        out = np.empty(n, dtype=object)
        for i, v in enumerate(vals):
            if isinstance(v, np.ndarray):
                v = v.copy()
                v.flags.writeable = False
            out[i] = v
        return out
    try:
        s = pd.Series(vals, dtype=object).astype(dt)
    except (TypeError, ValueError) as e:
        raise ValueError(f"column {column!r}: cannot store the values as {dt}: {e}") from None
    return _to_internal(s)


def _equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise equality that treats values of different types as different (1 != "1")."""
    if a.dtype != object and b.dtype != object:
        eq = np.asarray(a == b)
        if a.dtype.kind == "f" and b.dtype.kind == "f":
            eq |= np.isnan(a) & np.isnan(b)
        return eq
    return np.fromiter(
        (_same(x, y) for x, y in zip(a, b, strict=True)),
        dtype=bool,
        count=len(a),
    )


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return (
            isinstance(x, np.ndarray)
            and isinstance(y, np.ndarray)
            and x.dtype == y.dtype
            and x.shape == y.shape
            and bool(np.array_equal(x, y))
        )
    if type(x) is not type(y):
        return False
    try:
        return bool(x == y)
    except (TypeError, ValueError):
        return x is y


__all__ = ["Change", "ChangePlan"]
