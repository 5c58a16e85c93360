"""``PageSource``: the paged, sorted, filtered view of a Dataset (and its findings) a grid reads.

Orders (argsorts), filter masks, the findings aligned to the rows and thumbnails are computed
lazily on the first request that needs them and kept in :class:`~._cache.LRUCache` es keyed by
dataset version. Every page answer carries the version it was read at.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from dcai_jupyter.core import Findings

from ._cache import LRUCache
from ._images import image_data_url
from ._ordering import argsort_nulls_last, descending, grouped_order, window_order
from ._protocol import THUMB_SIZE, PageAnswer, PageQuery, column_json, is_null_scalar
from ._resolved import generation, resolution
from ._schema import ID_COLUMN

__all__ = ["PageSource"]

#: key of the group codes among the aligned findings arrays (not a column name)
_GROUP_CODES = "\0group"
#: prefix of a negated column: the score sorted "most suspicious first" is its negation
#: sorted ascending, so ties stay in row order (as in ``Findings.sorted()`` and the editor)
_NEGATED = "\0-"


def _origin_text(origin: Any, label_origin: Any) -> str | None:
    parts = []
    if isinstance(origin, str) and origin:
        parts.append(origin)
    if isinstance(label_origin, str) and label_origin:
        parts.append(f"{label_origin} label")
    return " · ".join(parts) or None


def _same_value(a: Any, b: Any) -> bool:
    """Whether two cell values are the same (missing equals missing; arrays by content)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
        except TypeError:
            return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    if is_null_scalar(a) or is_null_scalar(b):
        return is_null_scalar(a) and is_null_scalar(b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return str(a) == str(b)


class PageSource:
    """Answers page requests on a Dataset: lazy, cached per version, thread-safe.

    Parameters
    ----------
    ds : Dataset
        The dataset (read through ``ids``, ``column``, ``version``, ``positions`` and
        ``origins``).
    findings : Findings or None
        Shown as columns; their ``flag`` is the "flagged only" filter, and with a ``group``
        role, sorting by the score or the group keeps each group's rows adjacent.
    schema : list of dict
        The columns (see :func:`~._schema.build_schema`).
    cache_size : int
        Number of orders/masks kept (each is up to 8 bytes per row).
    """

    def __init__(
        self,
        ds: Any,
        findings: Findings | None,
        schema: list[dict[str, Any]],
        cache_size: int = 8,
    ) -> None:
        self.ds = ds
        self.findings = findings
        self._cache: LRUCache[Any] = LRUCache(cache_size)
        self._windows: LRUCache[np.ndarray | None] = LRUCache(64)
        self._thumbs: LRUCache[str | None] = LRUCache(4096)
        self._lineage: dict[int, int] = {}
        self._lineage_lock = threading.Lock()
        self.set_schema(schema)

    def set_schema(self, schema: list[dict[str, Any]]) -> None:
        """Columns to serve (a new list: the old one may be in use by another thread)."""
        self.schema = list(schema)
        self.columns = {c["name"]: c for c in self.schema}
        self.role_column: dict[str, str] = {
            str(c["finding"]): c["name"]
            for c in self.schema
            if c["role"] == "finding" and c["finding"] != "extra"
        }

    # -- versions ----------------------------------------------------------------------
    def changed(self, change: dict[str, Any] | None) -> None:
        """Follow a dataset change (called by the widget's observer, from any thread).

        Thumbnails of the touched ids are dropped; a ``relabel`` is noted so that what
        does not depend on labels stays cached (see :meth:`_kv`).
        """
        ids = change.get("ids") if isinstance(change, dict) else None
        if ids is None or len(ids) > len(self._thumbs):
            self._thumbs.clear()
        else:
            gone = set(ids)
            self._thumbs.discard(lambda k: isinstance(k, tuple) and k[0] in gone)
        if not isinstance(change, dict) or change.get("op") != "relabel":
            return
        new = change.get("version")
        if isinstance(new, int):
            with self._lineage_lock:
                # same rows as the version before: share its ids, alignments and orders
                self._lineage[new] = self._lineage.get(new - 1, new - 1)
                if len(self._lineage) > 10_000:
                    for v in sorted(self._lineage)[:5_000]:
                        self._lineage.pop(v, None)

    def _kv(self, column: str | None, version: int) -> int:
        """Cache version of data that depends on the rows and on ``column`` (not the label).

        A relabel changes neither the rows nor the other columns, so such data (ids,
        findings alignment, orders and windows of non-label columns) is shared across
        relabels: a sorted view of a large dataset stays fast while labels are being fixed.
        """
        if column is not None and column == self.ds.label:
            return version
        with self._lineage_lock:
            return self._lineage.get(version, version)

    # -- whole-column arrays -------------------------------------------------------------
    def ids(self, version: int) -> np.ndarray:
        """All sample ids in row order (``Dataset.ids`` copies: cached per version)."""
        return self._cache.get_or_compute(
            ("ids", self._kv(None, version)), lambda: np.asarray(self.ds.ids)
        )

    def _aligned(self, version: int) -> dict[str, np.ndarray]:
        """Every findings column as a full column in row order (missing: NaN/False/None)."""
        findings = self.findings
        assert findings is not None

        def compute() -> dict[str, np.ndarray]:
            ids = self.ids(version)
            n = len(ids)
            fids = findings.ids
            try:
                pos = np.asarray(self.ds.positions(fids), dtype=np.int64)
                present = np.ones(len(pos), dtype=bool)
            except KeyError:  # some samples were removed since the findings were made
                pos = pd.Index(ids).get_indexer(fids)
                present = pos >= 0
            pos = pos[present]
            frame = findings.frame
            out: dict[str, np.ndarray] = {}
            for col in self.schema:
                if col["role"] != "finding":
                    continue
                series = frame[col["source"]]
                arr: np.ndarray
                if col["kind"] == "bool":
                    arr = np.zeros(n, dtype=bool)
                    arr[pos] = series.eq(True).to_numpy(dtype=bool, na_value=False)[present]
                elif col["kind"] == "number":
                    arr = np.full(n, np.nan)
                    arr[pos] = series.to_numpy(dtype=float, na_value=np.nan)[present]
                else:
                    arr = np.full(n, None, dtype=object)
                    arr[pos] = series.to_numpy(dtype=object)[present]
                out[col["name"]] = arr
            group = self.role_column.get("group")
            if group is not None:
                source = self.columns[group]["source"]
                try:
                    codes, _ = pd.factorize(frame[source], sort=True, use_na_sentinel=True)
                except TypeError:  # unorderable mixed ids: by their text
                    codes, _ = pd.factorize(frame[source].astype(str), sort=True)
                g = np.full(n, -1, dtype=np.int64)
                g[pos] = np.asarray(codes, dtype=np.int64)[present]
                out[_GROUP_CODES] = g
            return out

        return self._cache.get_or_compute(("findings", self._kv(None, version)), compute)

    def _origins(self, version: int) -> pd.Series:
        """Origin text by sample id, for the rows that have one."""

        def compute() -> pd.Series:
            frame = self.ds.origins
            text = [
                _origin_text(o, lo)
                for o, lo in zip(frame["origin"], frame["label_origin"], strict=True)
            ]
            return pd.Series(text, index=frame.index, dtype=object)

        return self._cache.get_or_compute(("origins", version), compute)

    def full_column(self, name: str, version: int) -> np.ndarray:
        """All values of a schema column in row order."""
        if name == ID_COLUMN:
            return self.ids(version)
        if name.startswith(_NEGATED):
            return -self.full_column(name[len(_NEGATED) :], version)
        role = self.columns[name]["role"] if name in self.columns else None
        if role == "finding":
            return self._aligned(version)[name]
        if role == "origin":
            return self._origins(version).reindex(self.ids(version)).to_numpy(dtype=object)
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
            if q.flagged:
                m = self._flagged(version)
                mask = m if mask is None else mask & m
            if q.text:
                m = self._text_mask(q.text)
                mask = m if mask is None else mask & m
            if q.review:
                resolved = self._resolved_rows(version)
                m = resolved if q.review == "resolved" else self._flagged(version) & ~resolved
                mask = m if mask is None else mask & m
            assert mask is not None
            return mask

        return self._cache.get_or_compute(("mask", version, self._filter_key(q)), compute)

    def _filter_key(self, q: PageQuery) -> tuple[Any, ...]:
        """The query's filter, with the keep generation when it filters on the resolved state."""
        return (*q.filter_key, generation(self.ds) if q.review else 0)

    def _resolved_rows(self, version: int) -> np.ndarray:
        """Rows whose finding is resolved (see :mod:`._resolved`), in row order."""
        assert self.findings is not None
        state = resolution(self.ds, self.findings)
        resolved = state[state != ""]
        return np.isin(self.ids(version), resolved.index.to_numpy())

    def _flagged(self, version: int) -> np.ndarray:
        """Rows flagged by the findings; with groups, every row of a group with a flagged row
        (a duplicate is shown beside the row its group keeps)."""
        aligned = self._aligned(version)
        flag = aligned[self.role_column["flag"]]
        codes = aligned.get(_GROUP_CODES)
        if codes is None:
            return flag
        hit = np.unique(codes[flag & (codes >= 0)])
        return flag | ((codes >= 0) & np.isin(codes, hit))

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

    def _grouped_by(self, column: str) -> str | None:
        """``"score"``/``"group"`` when sorting by ``column`` keeps groups together."""
        if "group" not in self.role_column:
            return None
        for by in ("score", "group"):
            if self.role_column.get(by) == column:
                return by
        return None

    def _grouped_order(self, column: str, by: str, ascending: bool, version: int) -> np.ndarray:
        def compute() -> np.ndarray:
            aligned = self._aligned(version)
            score_col = self.role_column["score"]
            keeper_col = self.role_column.get("keeper")
            return grouped_order(
                aligned[score_col],
                aligned[_GROUP_CODES],
                None if keeper_col is None else aligned[keeper_col],
                by=by,
                ascending=ascending,
            )

        key = ("grouped", self._kv(None, version), column, ascending)
        return self._cache.get_or_compute(key, compute)

    def _full_ascending(self, column: str, version: int) -> tuple[np.ndarray, int]:
        """Stable ascending order of a column (nulls last), computed once per version.

        Not computed under a lock (it takes ~1-2 s at 10M rows): a second caller waits for
        the first one's result instead of sorting again.
        """
        key = ("argsort", self._kv(column, version), column)
        return self._cache.get_or_compute(
            key, lambda: argsort_nulls_last(self.full_column(column, version))
        )

    def _have_full(self, column: str, version: int) -> bool:
        return ("argsort", self._kv(column, version), column) in self._cache

    def order(self, column: str, ascending: bool, version: int) -> np.ndarray:
        """Row positions sorted by ``column``: stable (ties in row order for ascending,
        reversed for descending), missing values last; cached per version, column and
        direction. Sorting findings with groups by their score or group keeps each group's
        rows adjacent, the keeper first (see :func:`~._ordering.grouped_order`)."""
        by = self._grouped_by(column)
        if by is not None:
            return self._grouped_order(column, by, ascending, version)
        asc, n_valid = self._full_ascending(column, version)
        if ascending:
            return asc
        return self._cache.get_or_compute(
            ("order", self._kv(column, version), column, False),
            lambda: descending(asc, n_valid),
        )

    def _window(
        self, column: str, ascending: bool, version: int, start: int, stop: int
    ) -> np.ndarray | None:
        """``order(column)[start:stop]`` from a partition (O(n)) while no full sort exists."""
        key = ("window", self._kv(column, version), column, ascending, start, stop)
        return self._windows.get_or_compute(
            key, lambda: window_order(self.full_column(column, version), start, stop, ascending)
        )

    def positions(self, q: PageQuery, version: int) -> tuple[np.ndarray | None, int, int]:
        """Row positions of the query's rows in display order.

        Returns ``(rows, total, base)``: ``rows[i]`` is the row at display index
        ``base + i`` and ``total`` the number of rows of the query; ``rows`` is None for
        all rows in row order. Before the full sort of a column exists (it is computed in
        the background on the first sorted request), a page comes from a partition. The
        findings' score sorted descending is "most suspicious first": ties in row order, the
        order of ``Findings.sorted()`` and of the LabelEditor's queue.
        """
        mask = self._mask(q, version)
        column = q.sort_column
        if column is None:
            if mask is None:
                return None, len(self.ds), 0
            rows = self._cache.get_or_compute(
                ("rows", version, self._filter_key(q)), lambda: np.flatnonzero(mask)
            )
            return rows, len(rows), 0
        grouped = self._grouped_by(column) is not None
        ascending = q.ascending
        if not grouped and not ascending and column == self.role_column.get("score"):
            column, ascending = _NEGATED + column, True
        if mask is None:
            if not grouped and not self._have_full(column, version):
                window = self._window(column, ascending, version, q.offset, q.offset + q.limit)
                if window is not None:
                    key = ("argsort", self._kv(column, version), column)
                    self._cache.compute_in_background(
                        key,
                        lambda: argsort_nulls_last(self.full_column(column, version)),
                        name="dcai-grid-sort",
                    )
                    return window, len(self.ds), q.offset
            rows = self.order(column, ascending, version)
            return rows, len(rows), 0

        def compute() -> np.ndarray:
            if grouped or self._have_full(column, version):
                order = self.order(column, ascending, version)
                return order[mask[order]]
            subset = np.flatnonzero(mask)  # sort only the rows that pass the filter
            sub, n_valid = argsort_nulls_last(self.full_column(column, version)[subset])
            if not ascending:
                sub = descending(sub, n_valid)
            return subset[sub]

        rows = self._cache.get_or_compute(
            ("rows", version, self._filter_key(q), column, ascending), compute
        )
        return rows, len(rows), 0

    # -- pages -------------------------------------------------------------------------
    def _page_at(self, q: PageQuery, version: int) -> PageAnswer:
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
        finding_rows = None
        if self.findings is not None:
            finding_rows = self.findings.frame.reindex(ids)
        for col in self.schema:
            name, kind, role = col["name"], col["kind"], col["role"]
            if col.get("hidden") or name == ID_COLUMN:
                continue
            if role == "finding":
                assert finding_rows is not None
                series = finding_rows[col["source"]]
                if kind == "number":
                    values = series.to_numpy(dtype=float, na_value=np.nan)
                elif kind == "bool":
                    values = series.eq(True).to_numpy(dtype=bool, na_value=False)
                else:
                    values = series.to_numpy(dtype=object)
            elif role == "origin":
                values = self._origins(version).reindex(ids).to_numpy(dtype=object)
            elif kind == "image":
                columns[name] = self._thumbs_for(ids, np.asarray(self.ds.column(name, pos)), name)
                continue
            else:
                values = np.asarray(self.ds.column(name, pos))
            columns[name] = column_json(values, kind)
        answer: PageAnswer = {
            "type": "page",
            "version": version,
            "offset": q.offset,
            "limit": q.limit,
            "total": int(total),
            "row_count": int(n),
            "ids": ids.tolist(),
            "columns": columns,
        }
        pool = self.pool_counts(version)
        if pool is not None:
            answer["pool"] = pool
        differs = self._differs(pos, version)
        if differs is not None:
            answer["differs"] = differs
        if self.findings is not None:
            state = resolution(self.ds, self.findings)
            answer["resolved"] = [s or None for s in state.reindex(ids, fill_value="").tolist()]
            answer["counts"] = {
                "flagged": int(self.findings.flags.sum()),
                "resolved": int((state != "").sum()),
            }
        return answer

    def _keepers(self, version: int) -> dict[int, int]:
        """Group code -> row position of the member the group keeps."""

        def compute() -> dict[int, int]:
            aligned = self._aligned(version)
            codes = aligned[_GROUP_CODES]
            keep = np.flatnonzero(aligned[self.role_column["keeper"]] & (codes >= 0))
            return dict(zip(codes[keep].tolist(), keep.tolist(), strict=True))

        return self._cache.get_or_compute(("keepers", self._kv(None, version)), compute)

    def _differs(self, pos: np.ndarray, version: int) -> list[list[str] | None] | None:
        """Per row of a page of grouped findings with keepers (duplicates): the data columns
        shown whose value differs from its group's keeper; None for a keeper or a row in no
        group. None when the findings have no groups and keepers."""
        if "group" not in self.role_column or "keeper" not in self.role_column:
            return None
        codes = self._aligned(version)[_GROUP_CODES][pos]
        keepers = self._keepers(version)
        out: list[list[str] | None] = [None] * len(pos)
        rows = [
            (i, keepers[c])
            for i, c in enumerate(codes.tolist())
            if c >= 0 and c in keepers and keepers[c] != int(pos[i])
        ]
        if not rows:
            return out
        names = [
            c["name"]
            for c in self.schema
            if not c.get("hidden") and c["role"] not in ("id", "finding", "origin")
        ]
        at = np.asarray([i for i, _ in rows], dtype=np.int64)
        mine = pos[at]
        theirs = np.asarray([k for _, k in rows], dtype=np.int64)
        diff: list[list[str]] = [[] for _ in rows]
        both = np.concatenate([mine, theirs])
        for name in names:
            col = np.asarray(self.ds.column(name, both))
            a, b = col[: len(mine)], col[len(mine) :]
            for j, (x, y) in enumerate(zip(a, b, strict=True)):
                if not _same_value(x, y):
                    diff[j].append(name)
        for j, i in enumerate(at.tolist()):
            out[i] = diff[j]
        return out

    def pool_counts(self, version: int) -> dict[str, int] | None:
        """Labeled and unlabeled (pool) rows at ``version``; None when every row has a label."""
        missing = int(self.ds.n_unlabeled)  # kept by the engine per change: O(1) here
        if not missing:
            return None
        return {"labeled": len(self.ds) - missing, "unlabeled": missing}

    def _thumbs_for(self, ids: np.ndarray, values: np.ndarray, name: str) -> list[str | None]:
        out: list[str | None] = []
        for sid, value in zip(ids.tolist(), values, strict=True):
            key: Hashable = (sid, name, THUMB_SIZE)

            def thumb(v: Any = value) -> str | None:
                return image_data_url(v, THUMB_SIZE)

            out.append(self._thumbs.get_or_compute(key, thumb))
        return out

    def page(self, q: PageQuery) -> PageAnswer:
        """Answer a page request.

        The answer carries the dataset version it was read at; if the dataset changed
        while the page was being read (another thread), it is read again.
        """
        while True:  # a writer pauses between changes, so this ends
            version = self.ds.stable_version
            if version is None:  # a change is being applied right now: read after it
                time.sleep(0)
                continue
            answer = self._page_at(q, int(version))
            if self.ds.stable_version == version:
                return answer
