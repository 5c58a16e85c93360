"""The widget <-> kernel message protocol and the paged, sorted, filtered view of a Dataset.

One request/response channel per widget, on the ipywidgets custom-message comm
(``model.send`` in the browser, ``Widget.on_msg`` here). Every request is an object with a
``type`` and a ``request_id`` chosen by the browser; every answer echoes the ``request_id``:

- ``{"type": "page", "offset", "limit", "sort": {"column", "ascending"} | null,
  "filter": {"label": <class> | null, "issues_only": bool, "text": str}}``
  -> ``{"type": "page", "request_id", "version", "offset", "limit", "total", "row_count",
  "ids": [...], "columns": {name: [...]}}`` (``total`` = rows matching the filter)
- edits (``relabel``, ``remove``, and the LabelEditor's ``decide``/``move``/``undo``)
  -> ``{"type": "ok", "request_id", "version", ...}``
- anything invalid -> ``{"type": "error", "request_id", "message"}`` and nothing changes.

Rows never travel in traitlets: the synced state holds handles only (schema, counts,
classes, version), so what a view costs on the wire is bounded by the screen, not by the
dataset. Orders (argsorts) and filter masks are computed lazily on the first request that
needs them and cached per dataset version.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._images import image_data_url

__all__ = [
    "ID_COLUMN",
    "ISSUE_COLUMNS",
    "MAX_LIMIT",
    "PageQuery",
    "PageSource",
    "ProtocolError",
    "build_schema",
    "json_scalar",
    "normalize_issues",
    "parse_ids",
    "parse_page_request",
]

#: largest page the kernel answers (the browser asks for ~50-100 rows at a time)
MAX_LIMIT = 500
#: longest id list accepted in one edit message
MAX_EDIT_IDS = 100_000
#: text values longer than this are clamped in pages (the browser shows them clamped anyway)
TEXT_CLAMP = 2000
#: name of the sample-id column in the schema and in page answers
ID_COLUMN = "sample_id"
#: columns of an issues frame shown by the widgets (index = sample id)
ISSUE_COLUMNS = ("suggested_label", "label_quality", "is_issue")
#: feature columns shown by default (the rest are listed in the schema as hidden)
MAX_FEATURE_COLUMNS = 40
THUMB_SIZE = 64


class ProtocolError(ValueError):
    """A request the kernel refuses; its message is shown in the widget."""


def error_text(exc: BaseException) -> str:
    """Readable one-line message for an exception answered to the browser."""
    if isinstance(exc, KeyError) and exc.args:
        arg = exc.args[0]
        text = arg if isinstance(arg, str) else f"unknown sample id(s): {arg!r}"
    else:
        text = str(exc) or type(exc).__name__
    if not isinstance(exc, ProtocolError) and type(exc).__name__ not in text:
        text = f"{type(exc).__name__}: {text}"
    return text[:500]


# ----------------------------------------------------------------------------- JSON values


def json_scalar(value: Any, clamp: int = TEXT_CLAMP) -> Any:
    """Convert one cell value to a JSON-safe Python value (None for missing values)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, str):
        return value if len(value) <= clamp else value[:clamp] + "…"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, np.ndarray):
        return f"<array {'x'.join(map(str, value.shape))} {value.dtype}>"
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    text = str(value)
    return text if len(text) <= clamp else text[:clamp] + "…"


def column_json(values: np.ndarray, kind: str) -> list[Any]:
    """Convert a (short) column slice to a JSON-safe list according to its schema kind."""
    if kind == "image":
        return [image_data_url(v, THUMB_SIZE) for v in values]
    dk = values.dtype.kind
    if dk == "f":
        out = values.tolist()
        bad = np.flatnonzero(~np.isfinite(values))
        for i in bad:
            out[i] = None
        return out
    if dk in "iub":
        return values.tolist()
    if dk in "Mm":
        return [None if pd.isna(v) else str(v) for v in values]
    return [json_scalar(v) for v in values]


def is_null_scalar(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class PageQuery:
    """A validated page request."""

    offset: int
    limit: int
    sort_column: str | None = None
    ascending: bool = True
    label: Any = None
    has_label_filter: bool = False
    issues_only: bool = False
    text: str = ""

    @property
    def filter_key(self) -> tuple[Hashable, ...]:
        label = repr(self.label) if self.has_label_filter else None
        return (label, self.issues_only, self.text.casefold())

    @property
    def filtered(self) -> bool:
        return self.has_label_filter or self.issues_only or bool(self.text)


def _int_field(msg: dict[str, Any], name: str, default: int | None = None) -> int:
    value = msg.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ProtocolError(f"malformed request: {name!r} must be an integer, got {value!r}")
    return value


def parse_page_request(
    msg: dict[str, Any],
    *,
    sortable: Sequence[str],
    match_class: Callable[[Any], Any],
    has_issues: bool,
) -> PageQuery:
    """Validate a ``page`` request (raises ProtocolError with a readable message)."""
    offset = _int_field(msg, "offset", 0)
    limit = _int_field(msg, "limit", 50)
    if offset < 0:
        raise ProtocolError(f"malformed request: offset must be >= 0, got {offset}")
    if limit < 0:
        raise ProtocolError(f"malformed request: limit must be >= 0, got {limit}")
    limit = min(limit, MAX_LIMIT)
    sort = msg.get("sort")
    column, ascending = None, True
    if sort is not None:
        if not isinstance(sort, dict) or not isinstance(sort.get("column"), str):
            raise ProtocolError("malformed request: sort must be {column, ascending}")
        column = sort["column"]
        if column not in sortable:
            raise ProtocolError(f"cannot sort by unknown or unsortable column {column!r}")
        asc = sort.get("ascending", True)
        if not isinstance(asc, bool):
            raise ProtocolError("malformed request: sort.ascending must be true or false")
        ascending = asc
    flt = msg.get("filter") or {}
    if not isinstance(flt, dict):
        raise ProtocolError("malformed request: filter must be an object")
    label, has_label = None, False
    if flt.get("label") is not None and flt.get("label") != "":
        label, has_label = match_class(flt["label"]), True
    issues_only = flt.get("issues_only", False)
    if not isinstance(issues_only, bool):
        raise ProtocolError("malformed request: filter.issues_only must be true or false")
    if issues_only and not has_issues:
        raise ProtocolError("no issues were given to this widget: cannot filter issues only")
    text = flt.get("text") or ""
    if not isinstance(text, str):
        raise ProtocolError("malformed request: filter.text must be a string")
    return PageQuery(
        offset=offset,
        limit=limit,
        sort_column=column,
        ascending=ascending,
        label=label,
        has_label_filter=has_label,
        issues_only=issues_only,
        text=text.strip()[:200],
    )


def parse_ids(value: Any) -> list[int]:
    """Validate the ``ids`` of an edit message: a non-empty list of integers."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ProtocolError("malformed request: ids must be a non-empty list of sample ids")
    if len(value) > MAX_EDIT_IDS:
        raise ProtocolError(f"too many ids in one edit ({len(value)} > {MAX_EDIT_IDS})")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ProtocolError(f"malformed request: sample id {v!r} is not an integer")
        out.append(int(v))
    return out


# ----------------------------------------------------------------------------- issues + schema


def normalize_issues(issues: Any) -> pd.DataFrame | None:
    """Check an issues frame (index = sample id) and keep the columns the widgets show.

    Accepts the frame returned by ``find_label_issues`` (columns ``given_label``,
    ``suggested_label``, ``label_quality``, ``is_issue``; ``is_label_issue`` is read as
    ``is_issue``). Missing columns are allowed.
    """
    if issues is None:
        return None
    if not isinstance(issues, pd.DataFrame):
        raise TypeError(f"issues must be a pandas DataFrame indexed by sample id, got {issues!r}")
    frame = issues
    if "is_issue" not in frame.columns and "is_label_issue" in frame.columns:
        frame = frame.rename(columns={"is_label_issue": "is_issue"})
    if frame.index.dtype.kind not in "iu":
        raise TypeError("issues must be indexed by sample id (integers)")
    keep = [c for c in ("given_label", *ISSUE_COLUMNS) if c in frame.columns]
    frame = frame[keep]
    if "is_issue" not in frame.columns:  # a frame of flagged samples only
        frame = frame.assign(is_issue=True)
    if not frame.index.is_unique:
        frame = frame[~frame.index.duplicated(keep="first")]
    return frame


def _kind_of(values: np.ndarray) -> str:
    dk = values.dtype.kind
    if dk in "iuf":
        return "number"
    if dk == "b":
        return "bool"
    if dk in "Mm":
        return "datetime"
    return "text"


def build_schema(ds: Any, issues: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Columns shown by a grid, in display order; no row data is read."""
    schema: list[dict[str, Any]] = [
        {"name": ID_COLUMN, "kind": "id", "role": "id", "sortable": True}
    ]
    image = getattr(ds, "image_column", None)
    text = getattr(ds, "text_column", None)
    if image:
        schema.append({"name": image, "kind": "image", "role": "image", "sortable": False})
    schema.append({"name": ds.label, "kind": "label", "role": "label", "sortable": True})
    if issues is not None:
        for name, kind in (
            ("suggested_label", "label"),
            ("label_quality", "number"),
            ("is_issue", "bool"),
        ):
            if name in issues.columns:
                schema.append({"name": name, "kind": kind, "role": "issue", "sortable": True})
    if text:
        schema.append({"name": text, "kind": "text", "role": "text", "sortable": True})
    features = [c for c in ds.feature_columns if c not in (image, text, ds.label, ID_COLUMN)]
    for i, name in enumerate(features):
        kind = _kind_of(ds.column(name))
        entry = {"name": str(name), "kind": kind, "role": "feature", "sortable": True}
        if i >= MAX_FEATURE_COLUMNS:
            entry["hidden"] = True
        schema.append(entry)
    return schema


# ----------------------------------------------------------------------------- sorting


def argsort_nulls_last(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Ascending order of ``values`` with missing values last.

    Returns
    -------
    order : np.ndarray
        int64 positions.
    n_valid : int
        Number of non-missing values (they come first in ``order``).
    """
    n = len(values)
    dk = values.dtype.kind
    if dk == "f":
        order = np.argsort(values, kind="stable")  # NaN sorts last
        return order.astype(np.int64, copy=False), n - int(np.count_nonzero(np.isnan(values)))
    if dk in "iu":
        return np.argsort(values, kind="stable").astype(np.int64, copy=False), n
    if dk == "b":
        return np.argsort(values.view(np.uint8), kind="stable").astype(np.int64, copy=False), n
    if dk in "Mm":
        nat = np.isnat(values)
        key = values.view(np.int64).copy()
        key[nat] = np.iinfo(np.int64).max
        return np.argsort(key, kind="stable").astype(np.int64, copy=False), n - int(nat.sum())
    try:
        codes, _ = pd.factorize(values, sort=True, use_na_sentinel=True)
    except TypeError:  # mixed, unorderable types: order by their text
        as_text = np.array([None if is_null_scalar(v) else str(v) for v in values], dtype=object)
        codes, _ = pd.factorize(as_text, sort=True, use_na_sentinel=True)
    n_null = int(np.count_nonzero(codes < 0))
    top = int(codes.max(initial=-1)) + 1
    codes = np.where(codes < 0, top, codes)
    dtype = np.uint16 if top < 65535 else np.int64  # 16-bit keys get numpy's radix sort
    order = np.argsort(codes.astype(dtype, copy=False), kind="stable")
    return order.astype(np.int64, copy=False), n - n_null


def _ascending_window(values: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Positions at ranks [start, stop) of the stable ascending order of the valid values."""
    lo, hi = np.partition(values, [start, stop - 1])[[start, stop - 1]]
    below_lo = int(np.count_nonzero(values < lo))
    lo_ties = np.flatnonzero(values == lo)  # in position order = their order among ties
    if lo == hi:
        return lo_ties[start - below_lo : stop - below_lo]
    inner = np.flatnonzero((values > lo) & (values < hi))
    inner = inner[np.argsort(values[inner], kind="stable")]
    below_hi = int(np.count_nonzero(values < hi))
    hi_ties = np.flatnonzero(values == hi)[: stop - below_hi]
    return np.concatenate([lo_ties[start - below_lo :], inner, hi_ties])


def window_order(values: np.ndarray, start: int, stop: int, ascending: bool) -> np.ndarray | None:
    """Positions ``order[start:stop]`` of a numeric column's order, in O(n) (a partition).

    ``order`` is what :func:`argsort_nulls_last` gives: stable ascending (ties by position)
    with missing values last; descending is its non-missing part reversed, then the missing
    values. Pages served from windows and from the full order therefore agree.
    Returns None for non-numeric columns.
    """
    if values.dtype.kind not in "iuf":
        return None
    n = len(values)
    nan = np.isnan(values) if values.dtype.kind == "f" else None
    n_valid = n - int(np.count_nonzero(nan)) if nan is not None else n
    stop = min(stop, n)
    parts = []
    s, e = start, min(stop, n_valid)
    if s < e:
        if ascending:
            parts.append(_ascending_window(values, s, e))
        else:
            parts.append(_ascending_window(values, n_valid - e, n_valid - s)[::-1])
    s, e = max(start, n_valid) - n_valid, stop - n_valid
    if nan is not None and s < e:
        parts.append(np.flatnonzero(nan)[s:e])
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(parts).astype(np.int64, copy=False)


# ----------------------------------------------------------------------------- page source


class PageSource:
    """Answers page requests on a Dataset: lazy, cached per version, thread-safe.

    Parameters
    ----------
    ds : Dataset
        The dataset (read through ``ids``, ``column``, ``version`` and ``positions``).
    issues : pd.DataFrame or None
        A normalized issues frame (see :func:`normalize_issues`).
    schema : list of dict
        The columns (see :func:`build_schema`).
    cache_size : int
        Number of orders/masks kept (each is up to 8 bytes per row).
    """

    def __init__(
        self,
        ds: Any,
        issues: pd.DataFrame | None,
        schema: list[dict[str, Any]],
        cache_size: int = 8,
    ) -> None:
        self.ds = ds
        self.issues = issues
        self.schema = schema
        self.kinds = {c["name"]: c["kind"] for c in schema}
        self.roles = {c["name"]: c["role"] for c in schema}
        self._cache: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.RLock()
        self._thumbs: OrderedDict[tuple[int, str, int], str | None] = OrderedDict()
        self._thumb_lock = threading.Lock()
        self._sorting: dict[tuple[Hashable, ...], Future[Any]] = {}
        self._windows: OrderedDict[tuple[Hashable, ...], np.ndarray | None] = OrderedDict()
        self._lineage: dict[int, int] = {}

    # -- cache -------------------------------------------------------------------------
    def _cached(self, key: tuple[Hashable, ...], compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            value = compute()
            self._cache[key] = value
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return value

    def changed(self, change: dict[str, Any] | None) -> None:
        """Follow a dataset change (called by the widget's observer, from any thread).

        Thumbnails of the touched ids are dropped; a ``relabel`` is noted so that what
        does not depend on labels stays cached (see :meth:`_kv`).
        """
        ids = change.get("ids") if isinstance(change, dict) else None
        with self._thumb_lock:
            if ids is None or len(ids) > len(self._thumbs):
                self._thumbs.clear()
            else:
                gone = set(ids)
                for thumb in [k for k in self._thumbs if k[0] in gone]:
                    del self._thumbs[thumb]
        if not isinstance(change, dict) or change.get("op") != "relabel":
            return
        new = change.get("version")
        if isinstance(new, int):
            # same rows as the version before: share its ids, alignments and orders
            self._lineage[new] = self._lineage.get(new - 1, new - 1)
            if len(self._lineage) > 10_000:
                for v in sorted(self._lineage)[:5_000]:
                    self._lineage.pop(v, None)

    def _kv(self, column: str | None, version: int) -> int:
        """Cache version of data that depends on the rows and on ``column`` (not the label).

        A relabel changes neither the rows nor the other columns, so such data (ids, issue
        alignment, orders and windows of non-label columns) is shared across relabels: a
        sorted view of a large dataset stays fast while labels are being fixed.
        """
        if column is not None and column == self.ds.label:
            return version
        return self._lineage.get(version, version)

    # -- whole-column arrays -------------------------------------------------------------
    def _issue_arrays(self, version: int) -> dict[str, np.ndarray]:
        def compute() -> dict[str, np.ndarray]:
            assert self.issues is not None
            ids = self.ids(version)
            n = len(ids)
            issue_ids = self.issues.index.to_numpy()
            try:
                pos = np.asarray(self.ds.positions(issue_ids), dtype=np.int64)
                present = np.ones(len(pos), dtype=bool)
            except KeyError:  # some flagged samples were removed since
                pos = pd.Index(ids).get_indexer(issue_ids)
                present = pos >= 0
            pos = pos[present]
            out: dict[str, np.ndarray] = {}
            flag = np.zeros(n, dtype=bool)
            flag[pos] = self.issues["is_issue"].eq(True).to_numpy(dtype=bool)[present]
            out["is_issue"] = flag
            if "label_quality" in self.issues.columns:
                q = np.full(n, np.nan)
                q[pos] = self.issues["label_quality"].to_numpy(dtype=float, na_value=np.nan)[
                    present
                ]
                out["label_quality"] = q
            if "suggested_label" in self.issues.columns:
                s = np.full(n, None, dtype=object)
                s[pos] = self.issues["suggested_label"].to_numpy(dtype=object)[present]
                out["suggested_label"] = s
            return out

        return self._cached(("issues", self._kv(None, version)), compute)

    def ids(self, version: int) -> np.ndarray:
        """All sample ids in row order (``Dataset.ids`` copies: cached per version)."""
        return self._cached(("ids", self._kv(None, version)), lambda: np.asarray(self.ds.ids))

    def full_column(self, name: str, version: int) -> np.ndarray:
        """All values of a schema column in row order."""
        if name == ID_COLUMN:
            return self.ids(version)
        if self.roles.get(name) == "issue":
            return self._issue_arrays(version)[name]
        return np.asarray(self.ds.column(name))

    # -- filter + order ----------------------------------------------------------------
    def _mask(self, q: PageQuery, version: int) -> np.ndarray | None:
        if not q.filtered:
            return None

        def compute() -> np.ndarray:
            mask: np.ndarray | None = None
            if q.has_label_filter:
                labels = np.asarray(self.ds.column(self.ds.label))
                m = np.asarray(labels == q.label, dtype=bool)
                if m.shape != labels.shape:  # comparison not elementwise
                    m = np.array([v == q.label for v in labels], dtype=bool)
                mask = m
            if q.issues_only:
                flag = self._issue_arrays(version)["is_issue"]
                mask = flag if mask is None else mask & flag
            if q.text:
                m = self._text_mask(q.text)
                mask = m if mask is None else mask & m
            assert mask is not None
            return mask

        return self._cached(("mask", version, q.filter_key), compute)

    def _text_mask(self, needle: str) -> np.ndarray:
        text_col = getattr(self.ds, "text_column", None)
        if text_col:
            names = [text_col]
        else:
            names = [
                c["name"]
                for c in self.schema
                if c["kind"] in ("text", "label") and c["role"] in ("label", "feature", "text")
            ]
        mask = np.zeros(len(self.ds), dtype=bool)
        for name in names:
            series = pd.Series(np.asarray(self.ds.column(name)), copy=False)
            if series.dtype.kind != "O" and not pd.api.types.is_string_dtype(series.dtype):
                series = series.astype(str)
            found = series.astype(str).str.contains(needle, case=False, regex=False)
            mask |= found.to_numpy(dtype=bool, na_value=False)
        return mask

    def _store(self, key: tuple[Hashable, ...], value: Any) -> None:
        with self._lock:
            self._cache[key] = value
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _full_ascending(self, column: str, version: int) -> tuple[np.ndarray, int]:
        """Stable ascending order of a column (nulls last), computed once per version.

        Not computed under the cache lock (it takes ~1-2 s at 10M rows): a second caller
        waits for the first one's result instead of sorting again.
        """
        key = ("argsort", self._kv(column, version), column)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            future = self._sorting.get(key)
            owner = future is None
            if future is None:
                future = self._sorting[key] = Future()
        if not owner:
            return future.result()
        try:
            result = argsort_nulls_last(self.full_column(column, version))
        except BaseException as exc:
            with self._lock:
                self._sorting.pop(key, None)
            future.set_exception(exc)
            raise
        self._store(key, result)
        with self._lock:
            self._sorting.pop(key, None)
        future.set_result(result)
        return result

    def _sort_in_background(self, column: str, version: int) -> None:
        key = ("argsort", self._kv(column, version), column)
        with self._lock:
            if key in self._cache or key in self._sorting:
                return

        def run() -> None:
            try:
                self._full_ascending(column, version)
            except Exception:  # a later request computes it again and reports the error
                pass

        threading.Thread(target=run, name="dcai-grid-sort", daemon=True).start()

    def order(self, column: str, ascending: bool, version: int) -> np.ndarray:
        """Row positions sorted by ``column``: stable (ties in row order for ascending,
        reversed for descending), missing values last; cached per version, column and
        direction."""
        asc, n_valid = self._full_ascending(column, version)
        if ascending:
            return asc
        return self._cached(
            ("order", self._kv(column, version), column, False),
            lambda: np.concatenate([asc[:n_valid][::-1], asc[n_valid:]]),
        )

    def _window(
        self, column: str, ascending: bool, version: int, start: int, stop: int
    ) -> np.ndarray | None:
        """``order(column)[start:stop]`` from a partition (O(n)) while no full sort exists."""
        key = ("window", self._kv(column, version), column, ascending, start, stop)
        with self._lock:
            if key in self._windows:
                self._windows.move_to_end(key)
                return self._windows[key]
        rows = window_order(self.full_column(column, version), start, stop, ascending)
        with self._lock:
            self._windows[key] = rows
            while len(self._windows) > 64:
                self._windows.popitem(last=False)
        return rows

    def positions(self, q: PageQuery, version: int) -> tuple[np.ndarray | None, int, int]:
        """Row positions of the query's rows in display order.

        Returns ``(rows, total, base)``: ``rows[i]`` is the row at display index
        ``base + i`` and ``total`` the number of rows of the query; ``rows`` is None for
        all rows in row order. Before the full sort of a column exists (it is computed in
        the background on the first sorted request), a page comes from a partition.
        """
        mask = self._mask(q, version)
        column = q.sort_column
        if column is None:
            if mask is None:
                return None, len(self.ds), 0
            rows = self._cached(("rows", version, q.filter_key), lambda: np.flatnonzero(mask))
            return rows, len(rows), 0
        if mask is None:
            with self._lock:
                have_full = ("argsort", self._kv(column, version), column) in self._cache
            if not have_full:
                window = self._window(column, q.ascending, version, q.offset, q.offset + q.limit)
                if window is not None:
                    self._sort_in_background(column, version)
                    return window, len(self.ds), q.offset
            rows = self.order(column, q.ascending, version)
            return rows, len(rows), 0
        ascending = q.ascending

        def compute() -> np.ndarray:
            with self._lock:
                have_full = ("argsort", self._kv(column, version), column) in self._cache
            if have_full:
                order = self.order(column, ascending, version)
                return order[mask[order]]
            subset = np.flatnonzero(mask)  # sort only the rows that pass the filter
            sub, n_valid = argsort_nulls_last(self.full_column(column, version)[subset])
            if not ascending:
                sub = np.concatenate([sub[:n_valid][::-1], sub[n_valid:]])
            return subset[sub]

        rows = self._cached(("rows", version, q.filter_key, column, ascending), compute)
        return rows, len(rows), 0

    # -- pages -------------------------------------------------------------------------
    def _page_at(self, q: PageQuery, version: int) -> dict[str, Any]:
        rows, total, base = self.positions(q, version)
        ids_all = self.ids(version)
        n = len(ids_all)
        if rows is None:
            stop = min(q.offset + q.limit, n)
            pos = np.arange(min(q.offset, n), stop, dtype=np.int64)
        else:
            pos = rows[q.offset - base : q.offset - base + q.limit]
        ids = ids_all[pos]
        columns: dict[str, list[Any]] = {}
        issue_rows = None
        if self.issues is not None:
            issue_rows = self.issues.reindex(ids)
        for col in self.schema:
            name, kind = col["name"], col["kind"]
            if col.get("hidden"):
                continue
            if name == ID_COLUMN:
                continue
            if col["role"] == "issue":
                assert issue_rows is not None
                series = issue_rows[name]
                if name == "label_quality":
                    values = series.to_numpy(dtype=float, na_value=np.nan)
                elif name == "is_issue":
                    values = series.eq(True).to_numpy(dtype=bool)
                else:
                    values = series.to_numpy(dtype=object)
            elif kind == "image":
                columns[name] = self._thumbs_for(ids, np.asarray(self.ds.column(name))[pos], name)
                continue
            else:
                values = np.asarray(self.ds.column(name))[pos]
            columns[name] = column_json(values, kind)
        return {
            "type": "page",
            "version": version,
            "offset": q.offset,
            "limit": q.limit,
            "total": int(total),
            "row_count": int(n),
            "ids": ids.tolist(),
            "columns": columns,
        }

    def _thumbs_for(self, ids: np.ndarray, values: np.ndarray, name: str) -> list[str | None]:
        out: list[str | None] = []
        for sid, value in zip(ids.tolist(), values, strict=True):
            key = (sid, name, THUMB_SIZE)
            with self._thumb_lock:
                hit = key in self._thumbs
                url = self._thumbs.get(key)
            if not hit:
                url = image_data_url(value, THUMB_SIZE)
                with self._thumb_lock:
                    self._thumbs[key] = url
                    while len(self._thumbs) > 4096:
                        self._thumbs.popitem(last=False)
            out.append(url)
        return out

    def page(self, q: PageQuery) -> dict[str, Any]:
        """Answer a page request.

        The answer carries the dataset version it was read at; if the dataset changed
        while the page was being read (another thread), it is read again.
        """
        for _ in range(5):
            version = int(self.ds.version)
            answer = self._page_at(q, version)
            if int(self.ds.version) == version:
                return answer
        return answer
