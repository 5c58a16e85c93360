"""Columnar in-memory state of a dataset, and the deltas that change it.

A ``Table`` stores each column as a numpy array (object arrays for strings,
categoricals and other pandas extension types) next to an int64 array of sample
ids. numpy assignment keeps a single-cell edit in microseconds; the original pandas
dtypes are restored whenever a DataFrame is built.

Deltas are JSON-ready dicts, each exactly invertible:
``{"t": "set", "c": col | absent for the label, "i": ids, "o": old, "n": new}``,
``{"t": "del", "i": ids, "p": positions before, "r": {col: values}}`` and
``{"t": "ins", "i": ids, "p": positions after, "r": {col: values}}``.

Rows an operation creates carry their origin: ``ins``/``del`` deltas may hold ``"g"`` (one
origin string or None per row, e.g. ``"synthetic:smote"``), ``"s"`` (the source sample id
per row, e.g. of an augmented copy) and ``"lg"`` (the origin of each row's label, e.g.
``"pseudo"``); a label ``set`` may hold ``"g"``/``"og"``, the new and old label origins.
A column's dtype changes with ``{"t": "dt", "c": col, "i": [], "o": old, "n": new}``
(dtype names): an integer or bool label column becomes nullable (``Int64``, ``boolean``)
when the first rows without a label (the unlabeled pool) arrive. Origins are metadata
beside the columns: they are replayed and undone with the rows but are
not part of the fingerprint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _codec
from . import _fingerprint as fpr

ID_NAME = "sample_id"
_REST, _LABEL_H = "\x00rest", "\x00label_h"  # names of the hash arrays in ``_owned``


def _to_internal(s: pd.Series) -> np.ndarray:
    """A writable numpy array for a column; extension dtypes become object arrays."""
    dt = s.dtype
    if isinstance(dt, np.dtype) and dt.kind in "biufmM":
        return s.to_numpy(copy=True)
    arr = s.to_numpy(dtype=object, copy=True)
    if not (isinstance(dt, np.dtype) and dt.kind == "O"):
        return arr  # strings, categoricals, nullable numbers: no mutable cells to freeze
    for i, v in enumerate(arr):
        if isinstance(v, np.ndarray):
            # Freeze a private copy: an in-place edit of an image cannot bypass the history.
            c = v.copy()
            c.flags.writeable = False
            arr[i] = c
        elif type(v).__module__.startswith("PIL.") and hasattr(v, "copy"):
            arr[i] = v.copy()  # a private copy: the caller's image can be edited freely
    return arr


def ids_from_index(df: pd.DataFrame) -> tuple[np.ndarray, str, pd.DataFrame]:
    """Sample ids from a frame's index: a unique integer index is kept, else 0..n-1.

    Returns the ids, the index name to show, and the frame (with a non-integer index
    moved into a column so no information is lost).
    """
    idx = df.index
    if isinstance(idx, pd.MultiIndex):
        raise ValueError("a MultiIndex cannot be used as sample ids; call df.reset_index() first")
    if pd.api.types.is_integer_dtype(idx.dtype) and not pd.api.types.is_bool_dtype(idx.dtype):
        if idx.hasnans:
            raise ValueError("the index has missing values; cannot use it as sample ids")
        if not idx.is_unique:
            dup = idx[idx.duplicated()].unique()[:5].tolist()
            raise ValueError(
                f"the index has duplicate values {dup}; sample ids must be unique. "
                "Use df.reset_index(drop=True) to number the rows 0..n-1"
            )
        ids = idx.to_numpy(dtype=np.int64)
        if len(ids) and ids.min() < 0:
            raise ValueError("sample ids must be non-negative integers")
        return ids, idx.name if isinstance(idx.name, str) else ID_NAME, df
    if isinstance(idx, pd.RangeIndex):  # pragma: no cover - covered by the integer branch
        return np.arange(len(df), dtype=np.int64), ID_NAME, df
    name = idx.name if idx.name is not None else "index"
    if name in df.columns:
        raise ValueError(
            f"the frame's non-integer index would become column {name!r}, which exists already; "
            "reset or rename the index first"
        )
    return np.arange(len(df), dtype=np.int64), ID_NAME, df.reset_index()


class Table:
    """Columns, ids and per-row hashes of one dataset state."""

    def __init__(
        self,
        ids: np.ndarray,
        arrays: dict[str, np.ndarray],
        dtypes: dict[str, Any],
        label: str,
        index_name: str = ID_NAME,
        next_id: int | None = None,
        ids_sorted: bool | None = None,
    ) -> None:
        self.ids = ids
        self.arrays = arrays
        self.dtypes = dtypes
        self.columns = list(arrays)
        self.label = label
        self.index_name = index_name
        self.next_id = int(ids.max()) + 1 if next_id is None and len(ids) else (next_id or 0)
        self._index: pd.Index | None = None
        self._schema = fpr.schema_hash(self.columns, [str(dtypes[c]) for c in self.columns])
        self._salts = {c: fpr.salt(c) for c in self.columns}
        self._label_cache: dict[tuple[type, Any], np.uint64] = {}
        #: ids ascending: lookups by binary search (see ``positions``)
        self.ids_sorted = (
            bool(len(ids) < 2 or (np.diff(ids) > 0).all()) if ids_sorted is None else ids_sorted
        )
        # arrays this table may write in place (see ``copy``)
        self._owned: set[str] = {*arrays, _REST, _LABEL_H}
        self.rest: np.ndarray | None = None
        self.label_h: np.ndarray | None = None
        self.total = 0
        #: origin of rows an operation created, by id (absent: an original or user-added row)
        self.origin: dict[int, str] = {}
        #: the sample each derived row was made from, by id (augmented copies)
        self.source: dict[int, int] = {}
        #: origin of labels not set by a person, by id (e.g. pseudo-labels)
        self.label_origin: dict[int, str] = {}
        # rows without a label (the pool): counted once, then kept up to date per delta
        self._n_unlabeled: int | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(cls, df: pd.DataFrame, label: str) -> Table:
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
        if not all(isinstance(c, str) for c in df.columns):
            bad = [c for c in df.columns if not isinstance(c, str)][:5]
            raise ValueError(f"column names must be strings; got {bad}. Rename the columns first")
        if not df.columns.is_unique:
            raise ValueError(
                f"duplicate column names: {df.columns[df.columns.duplicated()].tolist()}"
            )
        ids, index_name, df = ids_from_index(df)
        if label not in df.columns:
            raise KeyError(
                f"label column {label!r} not in the frame; columns are {list(df.columns)}"
            )
        arrays = {c: _to_internal(df[c]) for c in df.columns}
        dtypes = {c: df[c].dtype for c in df.columns}
        return cls(ids, arrays, dtypes, label, index_name)

    def copy(self) -> Table:
        """A table to change without touching this one.

        Arrays are shared, copy-on-write: removes and inserts build new arrays anyway, and
        the first in-place set of a shared array copies it (``_own``). A one-row remove
        from a million-row table then costs one pass, not a full copy plus a pass.
        """
        t = Table(
            self.ids,
            dict(self.arrays),
            dict(self.dtypes),
            self.label,
            self.index_name,
            self.next_id,
            self.ids_sorted,
        )
        t.rest, t.label_h, t.total = self.rest, self.label_h, self.total
        t.origin, t.source = dict(self.origin), dict(self.source)
        t.label_origin = dict(self.label_origin)
        t._n_unlabeled = self._n_unlabeled
        t._label_cache = self._label_cache
        t._index = self._index
        t._owned = set()
        # the arrays are now shared both ways: this table must copy before writing too
        self._owned = set()
        return t

    def _own(self, name: str) -> None:
        if name in self._owned:
            return
        if name == _REST:
            assert self.rest is not None
            self.rest = self.rest.copy()
        elif name == _LABEL_H:
            assert self.label_h is not None
            self.label_h = self.label_h.copy()
        else:
            self.arrays[name] = self.arrays[name].copy()
        self._owned.add(name)

    # ------------------------------------------------------------------ hashing
    def _rest_terms(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(cols.values()))) if cols else 0
        rest = np.zeros(n, dtype=np.uint64)
        for c in self.columns:
            if c != self.label:
                rest += fpr.column_term(fpr.hash_values(cols[c]), self._salts[c])
        return rest

    def _label_terms(self, values: np.ndarray) -> np.ndarray:
        if len(values) > 256:
            return fpr.column_term(fpr.hash_values(values), self._salts[self.label])
        # Labels repeat a few class values: cache their terms, since hashing a handful of
        # values through pandas costs ~100 us (the whole budget of a single relabel).
        cache = self._label_cache
        try:
            return np.array([cache[(type(v), v)] for v in values], dtype=np.uint64)
        except (KeyError, TypeError):
            pass
        terms = fpr.column_term(fpr.hash_values(values), self._salts[self.label])
        if len(cache) < 10_000:
            for v, h in zip(values, terms, strict=True):
                try:
                    cache[(type(v), v)] = h
                except TypeError:  # unhashable values (arrays) are not cached
                    pass
        return terms

    def rehash(self) -> None:
        """Compute every row hash from scratch (O(rows x columns))."""
        self.rest = self._rest_terms(self.arrays)
        self.label_h = self._label_terms(self.arrays[self.label])
        self._owned |= {_REST, _LABEL_H}
        rows = fpr.row_hash(self.ids, self.rest, self.label_h)
        self.total = int(rows.sum(dtype=np.uint64))

    @property
    def n_unlabeled(self) -> int:
        """Rows whose label is missing (the unlabeled pool)."""
        if self._n_unlabeled is None:
            self._n_unlabeled = _n_missing(self.arrays[self.label])
        return self._n_unlabeled

    def fingerprint(self, total: int | None = None) -> int:
        """The fingerprint now, or with the row-hash sum ``total`` (a planned change)."""
        if self.rest is None:
            self.rehash()
        return fpr.finish(self.total if total is None else total, len(self), self._schema)

    def __len__(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------------ lookup
    @property
    def index(self) -> pd.Index:
        if self._index is None:
            self._index = pd.Index(self.ids, copy=False)
        return self._index

    def positions(self, ids: Any) -> np.ndarray:
        """Row positions of ``ids``; KeyError naming the unknown ids."""
        arr = np.asarray(ids)
        if arr.ndim != 1:
            arr = arr.reshape(-1)
        if len(arr) == 0:
            return np.empty(0, dtype=np.int64)
        if arr.dtype.kind not in "iu":
            if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
                arr = arr.astype(np.int64)
            elif arr.dtype == object and all(isinstance(v, (int, np.integer)) for v in arr):
                arr = arr.astype(np.int64)
            else:
                raise KeyError(f"sample ids must be integers; got {arr[:5].tolist()}")
        if self.ids_sorted:
            # The usual case (ids 0..n-1, removals, appended rows): a binary search needs no
            # hash index, which would have to be rebuilt after every removal or insertion.
            pos = np.searchsorted(self.ids, arr)
            found = pos < len(self.ids)
            found[found] &= self.ids[pos[found]] == arr[found]
            pos[~found] = -1
        elif len(arr) == 1:
            try:
                return np.array([self.index.get_loc(int(arr[0]))], dtype=np.int64)
            except KeyError:
                pos = np.array([-1])
        else:
            pos = self.index.get_indexer(pd.Index(arr))
        if (pos < 0).any():
            bad = arr[pos < 0]
            more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
            raise KeyError(
                f"unknown sample ids {bad[:10].tolist()}{more} (not in the dataset; removed?)"
            )
        return pos.astype(np.int64, copy=False)

    # ------------------------------------------------------------------ frames
    def column(self, name: str, positions: np.ndarray | None = None) -> np.ndarray:
        """A read-only snapshot of column ``name``: at ``positions``, or every row.

        Every row costs no copy now: the table stops owning the array it hands out, so the
        next in-place set of that column copies it first (``_own``) and the array handed
        out never changes. At ``positions`` the values are a new array of their own.
        """
        arr = self.arrays[name]
        if positions is None:
            out = arr.view()
            self._owned.discard(name)
        else:
            out = arr[positions]
        out.flags.writeable = False
        return out

    def frame(
        self, positions: np.ndarray | None = None, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        cols = list(self.columns if columns is None else columns)
        ids = self.ids if positions is None else self.ids[positions]
        index = pd.Index(ids.copy(), name=self.index_name)
        data: dict[str, Any] = {}
        for c in cols:
            arr = self.arrays[c] if positions is None else self.arrays[c][positions]
            dt = self.dtypes[c]
            if isinstance(dt, np.dtype):
                # One copy per column, one block each: consolidating into a 2-D block would
                # copy every numeric column a second time.
                data[c] = pd.Series(
                    arr.copy() if positions is None else arr, index=index, copy=False
                )
            else:
                data[c] = pd.Series(arr, index=index, dtype=object).astype(dt)
        return pd.DataFrame(data, index=index, columns=cols, copy=False)

    def rows_for(self, positions: np.ndarray) -> dict[str, list[Any]]:
        return {c: _codec.encode_array(self.arrays[c][positions]) for c in self.columns}

    def meta_for(self, ids: Sequence[int]) -> dict[str, list[Any]]:
        """The origin keys of a delta for rows ``ids`` (only those that are not all None)."""
        out: dict[str, list[Any]] = {}
        for key, store in (("g", self.origin), ("s", self.source), ("lg", self.label_origin)):
            if store:
                vals = [store.get(int(i)) for i in ids]
                if any(v is not None for v in vals):
                    out[key] = vals
        return out

    def set_meta(self, ids: Sequence[int], meta: dict[str, Any]) -> None:
        """Record the origin keys of inserted rows (see ``meta_for``)."""
        for key, store in (("g", self.origin), ("s", self.source), ("lg", self.label_origin)):
            vals = meta.get(key)
            if vals is None:
                continue
            for i, v in zip(ids, vals, strict=True):
                if v is not None:
                    store[int(i)] = v

    def drop_meta(self, ids: Sequence[int]) -> None:
        if self.origin or self.source or self.label_origin:
            for i in ids:
                i = int(i)
                self.origin.pop(i, None)
                self.source.pop(i, None)
                self.label_origin.pop(i, None)

    def set_label_origin(self, ids: Sequence[int], origins: Sequence[Any] | None) -> None:
        """Label origins after a label set: None (or no list) means a person set it."""
        for k, i in enumerate(ids):
            v = origins[k] if origins is not None else None
            if v is None:
                self.label_origin.pop(int(i), None)
            else:
                self.label_origin[int(i)] = v

    def rows_from_frame(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        """Convert rows to add into internal arrays, with the table's dtypes; clear errors."""
        missing = [c for c in self.columns if c not in df.columns]
        extra = [c for c in df.columns if c not in self.columns]
        if missing or extra:
            raise ValueError(
                f"rows to add must have exactly the dataset's columns; missing {missing}, extra {extra}"
            )
        out = {}
        for c in self.columns:
            s = df[c]
            if str(s.dtype) != str(self.dtypes[c]):
                try:
                    s = s.astype(self.dtypes[c])
                except (TypeError, ValueError) as e:
                    raise ValueError(
                        f"column {c!r}: cannot convert {s.dtype} to the dataset's {self.dtypes[c]}: {e}"
                    ) from None
            out[c] = _to_internal(s)
        return out

    # ------------------------------------------------------------------ deltas
    def plan_set(self, col: str, pos: np.ndarray, new: np.ndarray) -> SetPlan:
        """Everything a set needs, computed without changing anything (positions must be unique)."""
        if self.rest is None or self.label_h is None:
            self.rehash()
        assert self.rest is not None and self.label_h is not None
        mixed_ids = fpr.mix(self.ids[pos].astype(np.uint64))
        rest, lab = self.rest[pos], self.label_h[pos]
        old_rows = fpr.mix(mixed_ids ^ (rest + lab))
        if col == self.label:
            lab = self._label_terms(new)
        else:
            s = self._salts[col]
            rest = (
                rest
                - fpr.column_term(fpr.hash_values(self.arrays[col][pos]), s)
                + fpr.column_term(fpr.hash_values(new), s)
            )
        new_rows = fpr.mix(mixed_ids ^ (rest + lab))
        total = (
            self.total - int(old_rows.sum(dtype=np.uint64)) + int(new_rows.sum(dtype=np.uint64))
        ) & fpr.MASK
        return SetPlan(col, pos, new, rest, lab, total, self.fingerprint(total))

    def commit_set(self, plan: SetPlan) -> None:
        """Apply a planned set; cannot fail (values were validated when planned)."""
        if plan.col == self.label and self._n_unlabeled is not None:
            self._n_unlabeled += _n_missing(plan.new) - _n_missing(self.arrays[plan.col][plan.pos])
        self._own(plan.col)
        self.arrays[plan.col][plan.pos] = plan.new
        if plan.col == self.label:
            self._own(_LABEL_H)
            assert self.label_h is not None
            self.label_h[plan.pos] = plan.label_h
        else:
            self._own(_REST)
            assert self.rest is not None
            self.rest[plan.pos] = plan.rest
        self.total = plan.total

    def apply_set(self, col: str, pos: np.ndarray, new: np.ndarray) -> None:
        self.commit_set(self.plan_set(col, pos, new))

    def apply_delete(self, pos: np.ndarray) -> None:
        self.drop_meta(self.ids[pos].tolist())
        if self._n_unlabeled is not None:
            self._n_unlabeled -= _n_missing(self.arrays[self.label][pos])
        keep = np.ones(len(self.ids), dtype=bool)
        keep[pos] = False
        if self.rest is not None and self.label_h is not None:
            rows = fpr.row_hash(self.ids[pos], self.rest[pos], self.label_h[pos])
            self.total = (self.total - int(rows.sum(dtype=np.uint64))) & fpr.MASK
            self.rest, self.label_h = self.rest[keep], self.label_h[keep]
        self.ids = self.ids[keep]
        self.arrays = {c: a[keep] for c, a in self.arrays.items()}
        self._index = None
        self._owned = {*self.arrays, _REST, _LABEL_H}  # every array above is new

    def apply_insert(self, ids: np.ndarray, pos: np.ndarray, rows: dict[str, np.ndarray]) -> None:
        """Insert rows so that they end up at ``pos`` (ascending positions in the result)."""
        if self._n_unlabeled is not None:
            self._n_unlabeled += _n_missing(rows[self.label])
        n, k = len(self.ids), len(ids)
        is_new = np.zeros(n + k, dtype=bool)
        is_new[pos] = True
        old_slots = np.flatnonzero(~is_new)

        def merge(old: np.ndarray, new: np.ndarray) -> np.ndarray:
            out = np.empty(
                n + k, dtype=np.result_type(old.dtype, new.dtype) if old.dtype != object else object
            )
            out[old_slots] = old
            out[pos] = new
            return out

        if self.rest is not None and self.label_h is not None:
            rest_new = self._rest_terms(rows)
            lab_new = self._label_terms(rows[self.label])
            self.total = (
                self.total + int(fpr.row_hash(ids, rest_new, lab_new).sum(dtype=np.uint64))
            ) & fpr.MASK
            self.rest, self.label_h = merge(self.rest, rest_new), merge(self.label_h, lab_new)
        self.ids = merge(self.ids, ids.astype(np.int64))
        if self.ids_sorted and k:
            # only the neighbours of the inserted rows can break the order
            before = pos[pos > 0]
            after = pos[pos < n + k - 1]
            self.ids_sorted = bool(
                (self.ids[before - 1] < self.ids[before]).all()
                and (self.ids[after] < self.ids[after + 1]).all()
            )
        self.arrays = {c: merge(self.arrays[c], rows[c]) for c in self.columns}
        self.next_id = max(self.next_id, int(ids.max()) + 1 if k else 0)
        self._index = None
        self._owned = {*self.arrays, _REST, _LABEL_H}  # every array above is new

    def decode_rows(self, enc: dict[str, list[Any]]) -> dict[str, np.ndarray]:
        out = {}
        for c in self.columns:
            dt = self.dtypes[c]
            if isinstance(dt, np.dtype) and dt.kind in "iuf":
                # numbers are stored as plain JSON numbers (``encode_array``): no tagged
                # value to decode, one conversion (a tagged one fails it: decoded below)
                try:
                    out[c] = np.array(enc[c], dtype=dt)
                    continue
                except (TypeError, ValueError):
                    pass
            vals = _codec.decode_list(enc[c])
            if isinstance(dt, np.dtype) and dt.kind in "biufmM":
                out[c] = (
                    np.array(vals, dtype=dt) if dt.kind not in "mM" else np.array(vals).astype(dt)
                )
            else:
                arr = np.empty(len(vals), dtype=object)
                arr[:] = vals
                for v in arr:
                    if isinstance(v, np.ndarray):
                        v.flags.writeable = False
                out[c] = arr
        return out

    def apply_astype(self, col: str, dtype: str) -> None:
        """Convert column ``col`` to ``dtype`` (e.g. int64 -> Int64) and rehash every row."""
        dt = pd.api.types.pandas_dtype(dtype)
        arr = self.arrays[col]
        try:
            s = pd.Series(arr, dtype=object if arr.dtype == object else None).astype(dt)
        except (TypeError, ValueError) as e:
            raise ValueError(f"column {col!r} cannot become {dtype}: {e}") from None
        self.arrays[col] = _to_internal(s)
        self.dtypes[col] = s.dtype
        self._schema = fpr.schema_hash(self.columns, [str(self.dtypes[c]) for c in self.columns])
        self._label_cache = {}
        self._owned.add(col)
        if self.rest is not None:
            self.rehash()

    def apply_delta(self, d: dict[str, Any]) -> None:
        t = d["t"]
        if t == "dt":
            self.apply_astype(d["c"], d["n"])
            return
        if t == "set":
            col = d.get("c", self.label)
            pos = self.positions(d["i"])
            new = self.coerce_stored(col, _codec.decode_list(d["n"]))
            self.apply_set(col, pos, new)
            if col == self.label:
                self.set_label_origin(d["i"], d.get("g"))
        elif t == "del":
            pos = np.asarray(d["p"], dtype=np.int64)
            if not np.array_equal(self.ids[pos], np.asarray(d["i"], dtype=np.int64)):
                raise ValueError(
                    "history delta does not match the data (rows at the recorded positions differ)"
                )
            self.apply_delete(pos)
        elif t == "ins":
            self.apply_insert(
                np.asarray(d["i"], dtype=np.int64),
                np.asarray(d["p"], dtype=np.int64),
                self.decode_rows(d["r"]),
            )
            self.set_meta(d["i"], d)
        else:
            raise ValueError(f"unknown delta type {t!r}")

    def coerce_stored(self, col: str, values: list[Any]) -> np.ndarray:
        """Values read back from the history, as an array for column ``col``."""
        arr = self.arrays[col]
        if arr.dtype == object:
            out = np.empty(len(values), dtype=object)
            out[:] = values
            return out
        if arr.dtype.kind in "mM":
            return np.array(values).astype(arr.dtype)
        return np.asarray(values, dtype=arr.dtype)


@dataclass(frozen=True)
class SetPlan:
    """A validated, hashed set of values, ready to commit."""

    col: str
    pos: np.ndarray
    new: np.ndarray
    rest: np.ndarray
    label_h: np.ndarray
    total: int
    fingerprint: int


def _n_missing(values: np.ndarray) -> int:
    """Missing values (NaN, None, pd.NA) in a column slice; integer and bool arrays have none."""
    return int(pd.isna(values).sum()) if values.dtype.kind in "Of" else 0


def invert(d: dict[str, Any]) -> dict[str, Any]:
    """The delta that undoes ``d``."""
    t = d["t"]
    if t == "set":
        inv = {"t": "set", "i": d["i"], "o": d["n"], "n": d["o"]}
        if "c" in d:
            inv["c"] = d["c"]
        if "og" in d:
            inv["g"] = d["og"]
        if "g" in d:
            inv["og"] = d["g"]
        return inv
    if t in ("del", "ins"):
        inv = dict(d)
        inv["t"] = "ins" if t == "del" else "del"
        return inv
    if t == "dt":
        return {"t": "dt", "c": d["c"], "i": [], "o": d["n"], "n": d["o"]}
    raise ValueError(f"unknown delta type {t!r}")


def touched_ids(deltas: list[dict[str, Any]]) -> list[int]:
    out: list[int] = []
    for d in deltas:
        out.extend(int(i) for i in d["i"])
    return out


def apply_all(table: Table, deltas_per_change: Sequence[Any]) -> None:
    """Apply many changes fast: runs of label sets are merged into one vectorized write."""
    pending: dict[int, Any] = {}

    def flush() -> None:
        if pending:
            ids = np.fromiter(pending.keys(), dtype=np.int64, count=len(pending))
            vals = table.coerce_stored(table.label, _codec.decode_list(list(pending.values())))
            table.apply_set(table.label, table.positions(ids), vals)
            if table.label_origin:  # a person's label replaces a pseudo-label's origin
                table.set_label_origin(ids.tolist(), None)
            pending.clear()

    for deltas in deltas_per_change:
        if isinstance(deltas, tuple):  # a compact single-row label set: (id, new)
            pending.pop(deltas[0], None)
            pending[deltas[0]] = deltas[1]
            continue
        for d in deltas:
            if d["t"] == "set" and "c" not in d and "g" not in d and "og" not in d:
                # A later write to the same id wins, as it would applied one by one.
                for i, v in zip(d["i"], d["n"], strict=True):
                    pending.pop(i, None)
                    pending[i] = v
            else:
                flush()
                table.apply_delta(d)
    flush()
