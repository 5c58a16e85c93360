"""Row-level differences between two versions of a history, read from the recorded deltas.

``history.diff(a, b)`` never rebuilds either state: it walks the deltas of the changes
between the two versions and keeps, for every sample id they touch, what it was at the
earlier version and what it is at the later one. Its cost is proportional to the rows the
changes touched, not to the size of the dataset (a million-row dataset with 100,000
changes between the two versions diffs in well under a second).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import _codec
from ._history_store import HistoryStore
from ._table import ID_NAME

__all__ = ["Diff", "diff_deltas", "history_diff"]

_ABSENT = object()


def _same(x: Any, y: Any) -> bool:
    """Equality of two encoded (JSON) values; NaN equals NaN, 1 differs from 1.0 and True."""
    if type(x) is not type(y):
        return False
    if isinstance(x, float):
        return x == y or (x != x and y != y)
    if isinstance(x, list):
        return len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    return bool(x == y)


class _Row:
    """What one sample id was at the earlier version and is at the later one (encoded)."""

    __slots__ = ("after", "before", "existed", "exists")

    def __init__(self, existed: bool) -> None:
        self.existed = existed  # at the earlier version
        self.exists = existed  # now (as the walk goes)
        self.before: dict[str, Any] = {}  # column -> encoded value at the earlier version
        self.after: dict[str, Any] = {}  # column -> encoded value now


def _walk(
    changes: Iterable[list[dict[str, Any]]], label: str, columns: list[str]
) -> dict[int, _Row]:
    rows: dict[int, _Row] = {}
    for deltas in changes:
        for d in deltas:
            t = d["t"]
            ids = d["i"]
            if t == "set":
                col = d.get("c", label)
                for i, o, n in zip(ids, d["o"], d["n"], strict=True):
                    r = rows.get(i)
                    if r is None:
                        r = rows[i] = _Row(True)
                    r.before.setdefault(col, o)
                    r.after[col] = n
            elif t == "del":
                recorded = d["r"]
                for k, i in enumerate(ids):
                    r = rows.get(i)
                    if r is None:
                        r = rows[i] = _Row(True)
                    if r.existed:
                        # values no earlier change in the window touched: as deleted
                        for c in columns:
                            if c not in r.before and c in recorded:
                                r.before[c] = recorded[c][k]
                    r.exists = False
                    r.after = {}
            elif t == "ins":
                recorded = d["r"]
                for k, i in enumerate(ids):
                    r = rows.get(i)
                    if r is None:
                        r = rows[i] = _Row(False)
                    r.exists = True
                    r.after = {c: recorded[c][k] for c in columns if c in recorded}
            elif t == "dt":
                continue  # a column's dtype changed (a label column became nullable): no row
            else:
                raise ValueError(f"unknown delta type {t!r} in the history")
    return rows


@dataclass(frozen=True)
class Diff:
    """What changed between versions ``a`` and ``b``, row by row.

    Attributes
    ----------
    a, b
        The versions compared (``b`` may be older than ``a``: the diff then reads backwards).
    added
        Rows present at ``b`` but not at ``a``, with their values at ``b`` (by sample id).
    removed
        Rows present at ``a`` but not at ``b``, with their values at ``a``.
    relabeled
        Rows present at both whose label differs: columns ``old`` (at ``a``) and ``new``.
    modified
        Rows present at both with other changed columns, one line per (sample id, column):
        columns ``sample_id``, ``column``, ``old``, ``new``.
    """

    a: int
    b: int
    label: str
    added: pd.DataFrame
    removed: pd.DataFrame
    relabeled: pd.DataFrame
    modified: pd.DataFrame = field(repr=False)

    @property
    def modified_ids(self) -> list[int]:
        """Sample ids with a modified (non-label) column, ascending."""
        return sorted(set(self.modified["sample_id"].tolist()))

    @property
    def ids(self) -> list[int]:
        """Every sample id the diff lists (added, removed, relabeled or modified), ascending."""
        out = set(self.added.index.tolist()) | set(self.removed.index.tolist())
        out |= set(self.relabeled.index.tolist()) | set(self.modified_ids)
        return sorted(int(i) for i in out)

    def counts(self) -> dict[str, int]:
        """Rows per kind: ``added``, ``removed``, ``relabeled``, ``modified``."""
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "relabeled": len(self.relabeled),
            "modified": len(self.modified_ids),
        }

    @property
    def empty(self) -> bool:
        return not any(self.counts().values())

    def summary(self) -> pd.DataFrame:
        """One row per touched sample id: ``change`` (added / removed / relabeled / modified,
        joined with ``+`` when several), ``old_label``, ``new_label``, ``columns`` (the
        modified ones)."""
        kinds: dict[int, list[str]] = {}
        old: dict[int, Any] = {}
        new: dict[int, Any] = {}
        for i in self.added.index.tolist():
            kinds.setdefault(i, []).append("added")
            new[i] = self.added.at[i, self.label] if self.label in self.added else None
        for i in self.removed.index.tolist():
            kinds.setdefault(i, []).append("removed")
            old[i] = self.removed.at[i, self.label] if self.label in self.removed else None
        for i, o, n in zip(
            self.relabeled.index.tolist(), self.relabeled["old"], self.relabeled["new"], strict=True
        ):
            kinds.setdefault(i, []).append("relabeled")
            old[i], new[i] = o, n
        cols: dict[int, list[str]] = {}
        for i, c in zip(self.modified["sample_id"], self.modified["column"], strict=True):
            cols.setdefault(int(i), []).append(str(c))
        for i in cols:
            kinds.setdefault(i, []).append("modified")
        ids = sorted(kinds)
        frame = pd.DataFrame(
            {
                "change": ["+".join(kinds[i]) for i in ids],
                "old_label": pd.Series([old.get(i) for i in ids], dtype=object),
                "new_label": pd.Series([new.get(i) for i in ids], dtype=object),
                "columns": [cols.get(i, []) for i in ids],
            }
        )
        frame.index = pd.Index(ids, name=ID_NAME, dtype=np.int64)
        return frame

    def __repr__(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in self.counts().items())
        return f"Diff(version {self.a} -> {self.b}: {parts})"

    def _repr_html_(self) -> str:
        import html

        head = html.escape(repr(self))
        if self.empty:
            return f"<p>{head}</p>"
        return f"<p>{head}</p>" + self.summary().head(50).to_html(escape=True)


def _frame(
    rows: list[tuple[int, dict[str, Any]]],
    columns: list[str],
    dtypes: dict[str, str],
    index_name: str,
) -> pd.DataFrame:
    """Full rows (encoded values by column) as a frame with the recorded dtypes."""
    ids = [i for i, _ in rows]
    data: dict[str, Any] = {}
    for c in columns:
        values = _codec.decode_list([r.get(c) for _, r in rows])
        s = pd.Series(values, dtype=object)
        dt = dtypes.get(c)
        if dt is not None and dt != "object":
            try:
                s = s.astype(dt)
            except (TypeError, ValueError):
                pass  # keep object: what was recorded is shown as it was
        data[c] = s
    frame = pd.DataFrame(data, columns=columns)
    frame.index = pd.Index(ids, name=index_name, dtype=np.int64)
    return frame


def _set_events(
    changes: Iterable[Any], label: str
) -> tuple[list[Any], list[int], list[str], list[Any], list[Any], set[int]]:
    """Every value set, in order (id, column, old, new), and the ids that were deleted or
    inserted (those need the full walk)."""
    kept = list(changes)
    compact = [(k, ch) for k, ch in enumerate(kept) if type(ch) is tuple]
    if len(compact) == len(kept):  # only one-row label sets (the common history)
        ids = [ch[0] for ch in kept]
        return kept, ids, [label] * len(ids), [ch[1] for ch in kept], [ch[2] for ch in kept], set()
    ids = [ch[0] for _, ch in compact]
    cols = [label] * len(ids)
    olds = [ch[1] for _, ch in compact]
    news = [ch[2] for _, ch in compact]
    order: list[int] = []  # filled only once a JSON set appears (then events are merged)
    special: set[int] = set()
    for k, ch in enumerate(kept):
        if type(ch) is tuple:
            continue
        at = k << 32
        for d in ch:
            if d["t"] == "set":
                if not order:
                    order = [j << 32 for j, _ in compact]
                n = len(d["i"])
                order.extend(range(at, at + n))
                at += n
                ids.extend(d["i"])
                cols.extend([d.get("c", label)] * n)
                olds.extend(d["o"])
                news.extend(d["n"])
            else:
                special.update(int(i) for i in d["i"])
    if not order:  # JSON deltas held only removals/insertions: the sets are in order already
        return kept, ids, cols, olds, news, special
    by = np.argsort(np.asarray(order, dtype=np.int64), kind="stable").tolist()
    return (
        kept,
        [ids[k] for k in by],
        [cols[k] for k in by],
        [olds[k] for k in by],
        [news[k] for k in by],
        special,
    )


def _only(changes: list[Any], keep: set[int]) -> list[list[dict[str, Any]]]:
    """The changes restricted to the ids ``keep`` (compact tuples expanded)."""
    out: list[list[dict[str, Any]]] = []
    for ch in changes:
        if isinstance(ch, tuple):
            if ch[0] in keep:
                out.append([{"t": "set", "i": [ch[0]], "o": [ch[1]], "n": [ch[2]]}])
            continue
        part = []
        for d in ch:
            sel = [k for k, i in enumerate(d["i"]) if int(i) in keep]
            if not sel:
                continue
            if len(sel) == len(d["i"]):
                part.append(d)
                continue
            sub = {k: v for k, v in d.items() if k not in ("i", "o", "n", "p", "r")}
            sub["i"] = [d["i"][k] for k in sel]
            for key in ("o", "n", "p"):
                if key in d:
                    sub[key] = [d[key][k] for k in sel]
            if "r" in d:
                sub["r"] = {c: [v[k] for k in sel] for c, v in d["r"].items()}
            for key in ("g", "s", "lg", "og"):
                if key in d:
                    sub[key] = [d[key][k] for k in sel]
            part.append(sub)
        if part:
            out.append(part)
    return out


def diff_deltas(
    changes: Iterable[Any],
    *,
    a: int,
    b: int,
    label: str,
    columns: list[str],
    dtypes: dict[str, str] | None = None,
    index_name: str = ID_NAME,
) -> Diff:
    """The :class:`Diff` made by ``changes`` (the deltas of versions ``a+1 .. b`` in order).

    Parameters
    ----------
    changes
        One list of deltas per change, oldest first (a one-row label set may also be given
        compactly as an ``(id, old, new)`` tuple).
    a, b
        The versions the changes lead from and to (recorded in the result).
    label, columns, dtypes, index_name
        The dataset's label column, its columns (in order), their dtype names, and the
        name of the sample-id index.

    Notes
    -----
    Ids that were only ever set (the common case: relabels and updates) are diffed with
    vectorized first-old / last-new lookups; ids deleted or inserted in the window take a
    full walk of their deltas.
    """
    kept, ids, cols, olds, news, special = _set_events(changes, label)
    dtypes = dtypes or {}
    added: list[tuple[int, dict[str, Any]]] = []
    removed: list[tuple[int, dict[str, Any]]] = []
    relabeled: list[tuple[int, Any, Any]] = []
    modified: list[tuple[int, str, Any, Any]] = []
    if ids:
        names = list(dict.fromkeys(cols))
        code = {c: k for k, c in enumerate(names)}
        id_arr = np.asarray(ids, dtype=np.int64)
        key = id_arr * len(names) + np.fromiter((code[c] for c in cols), np.int64, len(cols))
        plain = ~np.isin(id_arr, np.fromiter(special, np.int64, len(special)))
        pos = np.flatnonzero(plain)
        k = key[pos]
        uniq, first = np.unique(k, return_index=True)
        _, last_rev = np.unique(k[::-1], return_index=True)
        last = len(k) - 1 - last_rev
        for u, f, la in zip(uniq.tolist(), pos[first].tolist(), pos[last].tolist(), strict=True):
            o, n = olds[f], news[la]
            t = type(o)
            if t is type(n) and (t is str or t is int):  # the common case, inline
                if o == n:
                    continue
            elif _same(o, n):
                continue
            i, c = divmod(u, len(names))
            if names[c] == label:
                relabeled.append((i, o, n))
            else:
                modified.append((i, names[c], o, n))
    rows = _walk(_only(kept, special), label, columns) if special else {}
    for i in sorted(rows):
        r = rows[i]
        if r.existed and not r.exists:
            removed.append((i, r.before))
        elif r.exists and not r.existed:
            added.append((i, r.after))
        elif r.exists and r.existed:
            for c in columns:
                if c not in r.before or c not in r.after:
                    continue  # untouched in the window (or only known on one side: unchanged)
                o, n = r.before[c], r.after[c]
                if _same(o, n):
                    continue
                if c == label:
                    relabeled.append((i, o, n))
                else:
                    modified.append((i, c, o, n))
    order = {c: k for k, c in enumerate(columns)}
    relabeled.sort(key=lambda r: r[0])
    modified.sort(key=lambda r: (r[0], order.get(r[1], len(order))))
    rel = pd.DataFrame(
        {
            "old": pd.Series(_codec.decode_list([o for _, o, _ in relabeled]), dtype=object),
            "new": pd.Series(_codec.decode_list([n for _, _, n in relabeled]), dtype=object),
        }
    )
    rel.index = pd.Index([i for i, _, _ in relabeled], name=index_name, dtype=np.int64)
    mod = pd.DataFrame(
        {
            "sample_id": pd.Series([i for i, _, _, _ in modified], dtype=np.int64),
            "column": pd.Series([c for _, c, _, _ in modified], dtype=object),
            "old": pd.Series(_codec.decode_list([o for _, _, o, _ in modified]), dtype=object),
            "new": pd.Series(_codec.decode_list([n for _, _, _, n in modified]), dtype=object),
        }
    )
    return Diff(
        a=a,
        b=b,
        label=label,
        added=_frame(added, columns, dtypes, index_name),
        removed=_frame(removed, columns, dtypes, index_name),
        relabeled=rel,
        modified=mod,
    )


def _reverse(d: Diff) -> Diff:
    """The same diff read from ``b`` back to ``a``."""
    rel = pd.DataFrame({"old": d.relabeled["new"], "new": d.relabeled["old"]})
    mod = d.modified.rename(columns={"old": "new", "new": "old"})[
        ["sample_id", "column", "old", "new"]
    ]
    return Diff(
        a=d.b,
        b=d.a,
        label=d.label,
        added=d.removed,
        removed=d.added,
        relabeled=rel,
        modified=mod,
    )


def history_diff(store: HistoryStore, a: int, b: int) -> Diff:
    """Row-level diff of a history between versions ``a`` and ``b`` (see :class:`Diff`).

    Parameters
    ----------
    a, b
        Versions ``0 .. head``. ``diff(3, 7)`` lists what versions 4..7 changed;
        ``diff(7, 3)`` the same read backwards (what going back to 3 would change).

    Returns
    -------
    Diff
        ``added``, ``removed`` (full rows), ``relabeled`` (old -> new label) and
        ``modified`` (sample id, column, old, new) between the two versions.
    """
    a = store.check_version(a)
    b = store.check_version(b)
    base = store.base
    if base is None:
        raise ValueError(f"{store.path} has no recorded base data yet; there is nothing to diff")
    columns = list(base["columns"])
    dtypes = dict(zip(columns, base["dtypes"], strict=True))
    lo, hi = min(a, b), max(a, b)
    d = diff_deltas(
        store.raw_changes(lo + 1, hi) if hi > lo else [],
        a=lo,
        b=hi,
        label=base["label"],
        columns=columns,
        dtypes=dtypes,
        index_name=base.get("index_name") or ID_NAME,
    )
    return d if a <= b else _reverse(d)
