"""Readable notebook display of ``History.changes``, ``.iterations`` and ``.events``.

The three are DataFrames with every raw column (``params``, ``ids``, ``code``,
``fingerprint``, ...) and the whole DataFrame API; only their display differs. In a
notebook (``_repr_html_``) and in ``repr`` they show a compact view: where each change
came from ("cell [5] · 3f2a9c1e", "widget SampleGrid in cell [7] · 3f2a9c1e"), what it
changed ("relabeled 3: 0 cat→dog, 1 cat→dog, 2 dog→bird", "removed 2: 4, 9",
"added 10 (synthetic:smote)") and why, without the raw ``params`` that repeat the reason.

Like pandas, the display shows the first and last rows of a long frame
(``display.max_rows`` / ``display.min_rows``) and decodes only those: their deltas are
read from the history file when the frame is shown, so a 10,000-change history displays
as fast as a 10-change one. Row subsets (``head``, ``tail``, boolean masks) keep the
readable display; a frame without the columns it needs (``changes[["op", "reason"]]``)
is a plain DataFrame. All text is escaped in HTML: cell values are text, never markup.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from . import _codec
from ._history_store import HistoryStore

_T = TypeVar("_T")

#: characters of a cell id shown (JupyterLab ids are UUIDs; 8 hex digits tell cells apart)
SHORT_ID = 8
#: rows listed one by one in a change's description ("0 cat→dog, 1 cat→dog, 2 dog→bird")
LISTED = 3
#: distinct before→after pairs listed for a larger relabel
PAIRS = 3
#: characters of one value, and of a whole description, before "…"
VALUE_CHARS = 24
TEXT_CHARS = 160
_ARROW = "→"
_SOURCE_WORDS = {"api": "script", "cli": "command line", "recipe": "recipe replay"}


class _Link:
    """The history file (its ``HistoryStore``) a frame was read from, to decode the rows it
    shows.

    Not pickled (a history holds an open SQLite connection): an unpickled frame shows
    counts instead of before→after values.
    """

    __slots__ = ("store",)

    def __init__(self, store: HistoryStore | None) -> None:
        self.store = store

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Link, (None,))


class _ReadableFrame(pd.DataFrame):
    """A DataFrame that shows itself as a readable table (see the module docstring)."""

    _metadata: ClassVar[list[str]] = ["_link"]
    _link: _Link | None = None
    #: columns the readable view reads; a derived frame without them is a plain DataFrame
    _needs: ClassVar[frozenset[str]] = frozenset()
    #: what one row is ("changes", "iterations", "events")
    _noun: ClassVar[str] = "rows"
    #: raw columns mentioned in the footer ("params, ids, code, ...")
    _raw_hint: ClassVar[str] = ""

    @property
    def _constructor(self) -> Callable[..., pd.DataFrame]:
        cls = type(self)

        def build(*args: Any, **kwargs: Any) -> pd.DataFrame:
            df = pd.DataFrame(*args, **kwargs)
            if cls._needs.issubset(df.columns):
                return cls(df)
            return df

        return build

    # -- the readable view ----------------------------------------------------------------
    def _readable_rows(self, positions: Sequence[int]) -> pd.DataFrame:
        """The readable view of the rows at ``positions`` (subclasses)."""
        raise NotImplementedError

    def readable(self, *, max_rows: int | None = None) -> pd.DataFrame:
        """The compact view this frame displays, as a DataFrame of text.

        Parameters
        ----------
        max_rows : int, optional
            Show at most this many rows: the first and the last halves, with a "…" row
            between (default: pandas' ``display.max_rows`` / ``display.min_rows``, as
            pandas shows a frame). Only the rows shown are decoded.

        Returns
        -------
        pandas.DataFrame
            One text column per piece of information, indexed like this frame (a "…"
            index entry marks the rows left out).
        """
        head, tail = _shown(len(self), max_rows)
        view = self._readable_rows(head + tail)
        if tail:
            gap = pd.DataFrame([["…"] * view.shape[1]], columns=view.columns, index=["…"])
            name = view.index.name
            view = pd.concat([view.iloc[: len(head)], gap, view.iloc[len(head) :]])
            view.index.name = name
        return view

    def _footer(self) -> str:
        n = len(self)
        what = self._noun if n != 1 else self._noun[:-1]
        return (
            f"{n:,} {what} · a readable view of {self.shape[1]} columns "
            f"({self._raw_hint}): see .columns, .to_string()"
        )

    def __repr__(self) -> str:
        try:
            view = self.readable()
        except Exception:  # the display must never hide the data
            return super().__repr__()
        body = text_table(view) if len(view) else f"(no {self._noun})"
        return f"{body}\n\n[{self._footer()}]"

    def _repr_html_(self) -> str | None:
        try:
            view = self.readable()
        except Exception:  # the display must never hide the data
            return None  # the notebook shows the text repr instead
        with pd.option_context(
            "display.max_colwidth", None, "display.max_columns", None, "display.html.border", 0
        ):
            table = (
                view.reset_index().to_html(
                    escape=True, notebook=True, index=False, max_rows=len(view) + 1
                )
                if len(view)
                else f"<p>(no {html.escape(self._noun)})</p>"
            )
        return (
            '<div class="dcai-history">'
            "<style>.dcai-history td{text-align:left;white-space:pre-wrap}</style>"
            f"{table}<p><small>{html.escape(self._footer())}</small></p></div>"
        )

    def _store(self) -> HistoryStore | None:
        link = self._link
        return None if link is None else link.store


class ChangesFrame(_ReadableFrame):
    """``History.changes``: one row per change, oldest first; shown readably."""

    _needs: ClassVar[frozenset[str]] = frozenset(
        {
            "version",
            "op",
            "n_rows",
            "source",
            "execution_count",
            "cell_id",
            "widget",
            "reason",
            "timestamp",
        }
    )
    _noun: ClassVar[str] = "changes"
    _raw_hint: ClassVar[str] = "params, ids, code, fingerprint, timestamp, ..."

    def _readable_rows(self, positions: Sequence[int]) -> pd.DataFrame:
        rows = self.iloc[list(positions)]
        versions = [int(v) for v in rows["version"]]
        store = self._store()
        deltas = _read(store, lambda s: s.deltas_at(versions))
        label = _label_of(store)
        out = {
            "time": times(rows["timestamp"]),
            "where": [_where(r) for r in rows.itertuples(index=False)],
            "op": [str(v) for v in rows["op"]],
            "rows": [int(v) for v in rows["n_rows"]],
            "change": [
                describe(deltas.get(v), label=label) if deltas is not None else "" for v in versions
            ],
            "reason": [clamp(v, TEXT_CHARS) if isinstance(v, str) else "" for v in rows["reason"]],
        }
        if deltas is None:
            del out["change"]
        return pd.DataFrame(out, index=pd.Index(versions, name="version", dtype=object))


class IterationsFrame(_ReadableFrame):
    """``History.iterations``: the changes grouped by what made them; shown readably."""

    _needs: ClassVar[frozenset[str]] = frozenset(
        {
            "source",
            "execution_count",
            "cell_id",
            "widget",
            "first_version",
            "last_version",
            "n_changes",
            "rows_touched",
            "ops",
            "started",
        }
    )
    _noun: ClassVar[str] = "iterations"
    _raw_hint: ClassVar[str] = "code, started, ended, ..."

    def _readable_rows(self, positions: Sequence[int]) -> pd.DataFrame:
        rows = self.iloc[list(positions)]
        spans = [
            (int(a), int(b))
            for a, b in zip(rows["first_version"], rows["last_version"], strict=True)
        ]
        counts = _read(self._store(), lambda s: s.op_counts(spans))
        ops = []
        for i, raw in enumerate(rows["ops"]):
            if counts is not None and counts[i]:
                ops.append(", ".join(_op_text(op, n, r) for op, n, r in counts[i]))
            else:
                ops.append(", ".join(str(raw).split(",")) if isinstance(raw, str) else "")
        out = {
            "started": times(rows["started"]),
            "where": [_where(r) for r in rows.itertuples(index=False)],
            "versions": [f"{a}" if a == b else f"{a}..{b}" for a, b in spans],
            "changes": [int(v) for v in rows["n_changes"]],
            "ops": [clamp(o, TEXT_CHARS) for o in ops],
            "rows": [_int_or_zero(v) for v in rows["rows_touched"]],
        }
        return pd.DataFrame(
            out, index=pd.Index(list(rows.index), name=rows.index.name, dtype=object)
        )


class EventsFrame(_ReadableFrame):
    """``History.events``: recorded analyses (find steps); shown readably."""

    _needs: ClassVar[frozenset[str]] = frozenset(
        {"version", "op", "params", "summary", "source", "execution_count", "cell_id", "timestamp"}
    )
    _noun: ClassVar[str] = "events"
    _raw_hint: ClassVar[str] = "params, summary, timestamp, ..."

    def _readable_rows(self, positions: Sequence[int]) -> pd.DataFrame:
        rows = self.iloc[list(positions)]
        out = {
            "version": [int(v) for v in rows["version"]],
            "time": times(rows["timestamp"]),
            "where": [_where(r) for r in rows.itertuples(index=False)],
            "op": [str(v) for v in rows["op"]],
            "found": [_mapping_text(v) for v in rows["summary"]],
            "params": [_mapping_text(v) for v in rows["params"]],
        }
        return pd.DataFrame(
            out, index=pd.Index(list(rows.index), name=rows.index.name, dtype=object)
        )


def linked(frame: pd.DataFrame, cls: type[_ReadableFrame], store: HistoryStore) -> _ReadableFrame:
    """``frame`` as a ``cls`` that reads the rows it shows from ``store`` (the history file)."""
    out = cls(frame)
    object.__setattr__(out, "_link", _Link(store))
    return out


# ---------------------------------------------------------------------- pieces of text
def text_table(view: pd.DataFrame) -> str:
    """``view`` as plain text: the index first, numbers right-aligned, text left-aligned."""
    frame = view.reset_index()
    columns = [str(c) for c in frame.columns]
    cells = [[str(v) for v in frame[c]] for c in frame.columns]
    lines = []
    widths = [max([len(h)] + [len(v) for v in col]) for h, col in zip(columns, cells, strict=True)]
    numeric = [all(v.isdigit() or v in ("", "…") for v in col) for col in cells]
    head = [
        h.rjust(w) if num else h.ljust(w)
        for h, w, num in zip(columns, widths, numeric, strict=True)
    ]
    lines.append("  ".join(head).rstrip())
    for i in range(len(frame)):
        row = [
            col[i].rjust(w) if num else col[i].ljust(w)
            for col, w, num in zip(cells, widths, numeric, strict=True)
        ]
        lines.append("  ".join(row).rstrip())
    return "\n".join(lines)


def _shown(n: int, max_rows: int | None) -> tuple[list[int], list[int]]:
    """Positions of the first and last rows shown of ``n`` (pandas' truncation rule)."""
    if max_rows is None:
        limit = pd.get_option("display.max_rows")
        if limit is None or n <= limit:
            return list(range(n)), []
        fitted = pd.get_option("display.min_rows") or limit
        k = min(int(fitted), int(limit))
    else:
        if max_rows < 0:
            raise ValueError(f"max_rows must be >= 0, got {max_rows}")
        if n <= max_rows:
            return list(range(n)), []
        k = int(max_rows)
    front = (k + 1) // 2
    back = k - front
    return list(range(front)), list(range(n - back, n))


def short_id(cell_id: Any) -> str | None:
    """The first characters of a cell id (enough to tell a notebook's cells apart)."""
    if not isinstance(cell_id, str) or not cell_id:
        return None
    return cell_id[:SHORT_ID]


def _count(v: Any) -> int | None:
    if v is None or v is pd.NA:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        return None
    return int(v)


def where(source: Any, execution_count: Any, cell_id: Any, widget: Any) -> str:
    """Where a change came from, e.g. "cell [5] · 3f2a9c1e", "widget SampleGrid in cell [7]"."""
    src = str(source)
    count = _count(execution_count)
    sid = short_id(cell_id)
    cell = "cell" + (f" [{count}]" if count is not None else "") + (f" · {sid}" if sid else "")
    has_cell = count is not None or sid is not None
    if src == "cell":
        return cell
    if src == "widget":
        name = widget if isinstance(widget, str) and widget else "widget"
        return f"widget {name}" + (f" in {cell}" if has_cell else "")
    if src == "callback":
        w = short_id(widget)
        return (
            "widget callback"
            + (f" {w}" if w else "")
            + (f" after cell [{count}]" if count is not None else "")
        )
    return _SOURCE_WORDS.get(src, src)


def _where(row: Any) -> str:
    return where(row.source, row.execution_count, row.cell_id, getattr(row, "widget", None))


def times(col: pd.Series) -> list[str]:
    """Local wall-clock times (the kernel's time zone), to the second."""
    out = []
    for v in col:
        if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            out.append("")
            continue
        ts = pd.Timestamp(v)
        if ts.tzinfo is None:
            ts = ts.tz_localize("UTC")
        out.append(datetime.fromtimestamp(ts.timestamp()).strftime("%Y-%m-%d %H:%M:%S"))
    return out


def _int_or_zero(v: Any) -> int:
    c = _count(v)
    return 0 if c is None else c


def clamp(text: str, n: int) -> str:
    text = " ".join(text.split()) if "\n" in text or "\r" in text else text
    return text if len(text) <= n else text[: n - 1] + "…"


def value_text(v: Any) -> str:
    """One cell value, short: missing is "(none)", arrays and bytes by their size."""
    if _codec.is_missing(v):
        return "(none)"
    if isinstance(v, np.ndarray):
        return "array " + "×".join(str(s) for s in v.shape)
    if isinstance(v, (bytes, bytearray)):
        return f"{len(v):,} bytes"
    if isinstance(v, float):
        return repr(v)
    if type(v).__module__.startswith("PIL."):
        size = getattr(v, "size", None)
        return "image " + "×".join(str(s) for s in size) if size else "image"
    return clamp(str(v), VALUE_CHARS)


def _origins(d: dict[str, Any]) -> set[str]:
    g = d.get("g")
    if isinstance(g, list):
        return {str(x) for x in g if x is not None}
    return {str(g)} if isinstance(g, str) else set()


def _ids_text(ids: Sequence[Any], n: int = 5) -> str:
    shown = ", ".join(str(i) for i in ids[:n])
    return shown + (f", … (+{len(ids) - n:,})" if len(ids) > n else "")


def describe(deltas: list[dict[str, Any]] | None, *, label: str | None = None) -> str:
    """What one change did, from its deltas: before→after for relabels, counts otherwise.

    Parameters
    ----------
    deltas : list of dict, optional
        The change's deltas as the history stores them (see ``core._table``).
    label : str, optional
        The label column's name (an update of it reads as a relabel).

    Returns
    -------
    str
        E.g. ``"relabeled 3: 0 cat→dog, 1 cat→dog, 2 dog→bird"``, ``"removed 2: 4, 9"``,
        ``"added 10 (synthetic:smote)"``; ``""`` for ``None``.
    """
    if deltas is None:
        return ""
    relabels: list[tuple[Any, Any, Any]] = []
    label_origins: set[str] = set()
    updates: dict[str, list[tuple[Any, Any, Any]]] = {}
    removed: list[Any] = []
    removed_origins: set[str] = set()
    added: list[Any] = []
    added_origins: set[str] = set()
    dtypes: list[str] = []
    for d in deltas:
        t = d.get("t")
        if t == "set":
            col = d.get("c")
            triples = list(
                zip(d["i"], _codec.decode_list(d["o"]), _codec.decode_list(d["n"]), strict=True)
            )
            if col is None or col == label:
                relabels.extend(triples)
                label_origins |= _origins(d)
            else:
                updates.setdefault(str(col), []).extend(triples)
        elif t == "del":
            removed.extend(d["i"])
            removed_origins |= _origins(d)
        elif t == "ins":
            added.extend(d["i"])
            added_origins |= _origins(d)
        elif t == "dt":
            dtypes.append(f"column {d.get('c')} {d.get('o')}{_ARROW}{d.get('n')}")
    parts: list[str] = []
    if relabels:
        parts.append(
            f"relabeled {len(relabels):,}"
            + (f" ({', '.join(sorted(label_origins))})" if label_origins else "")
            + ": "
            + _pairs_text(relabels)
        )
    for col, triples in updates.items():
        parts.append(f"updated {col} on {len(triples):,}: " + _pairs_text(triples))
    if removed:
        parts.append(
            f"removed {len(removed):,}"
            + (f" ({', '.join(sorted(removed_origins))})" if removed_origins else "")
            + (f": {_ids_text(removed)}" if len(removed) <= LISTED + 2 else "")
        )
    if added:
        parts.append(
            f"added {len(added):,}"
            + (f" ({', '.join(sorted(added_origins))})" if added_origins else "")
            + (f": {_ids_text(added)}" if len(added) <= LISTED else "")
        )
    parts.extend(dtypes)
    return clamp("; ".join(parts), TEXT_CHARS) if parts else "no rows"


def _pairs_text(triples: list[tuple[Any, Any, Any]]) -> str:
    """``0 cat→dog, 1 cat→dog`` for a few rows; ``cat→dog ×40, dog→bird ×2`` for more."""
    if len(triples) <= LISTED:
        return ", ".join(f"{i} {value_text(o)}{_ARROW}{value_text(n)}" for i, o, n in triples)
    pairs = Counter((value_text(o), value_text(n)) for _, o, n in triples)
    top = pairs.most_common(PAIRS)
    text = ", ".join(f"{o}{_ARROW}{n} ×{c:,}" for (o, n), c in top)
    if len(pairs) > PAIRS:
        text += f", +{len(pairs) - PAIRS:,} more pairs"
    return text


def _op_text(op: str, n: int, rows: int) -> str:
    """``relabel ×12``, ``remove (5 rows)``, ``relabel ×3 (40 rows)``."""
    text = f"{op} ×{n:,}" if n > 1 else op
    return text + (f" ({rows:,} rows)" if rows != n else "")


def _mapping_text(v: Any) -> str:
    """A params or summary dict as ``key=value, ...`` (values short, None left out)."""
    if not isinstance(v, dict) or not v:
        return ""
    parts = []
    for k, x in v.items():
        if x is None:
            continue
        if isinstance(x, dict):
            x = "{…}"
        elif isinstance(x, list):
            x = f"[{len(x)} items]" if len(x) > 3 else x
        parts.append(f"{k}={clamp(str(x), VALUE_CHARS)}")
    return clamp(", ".join(parts), TEXT_CHARS)


def _read(store: HistoryStore | None, read: Callable[[HistoryStore], _T]) -> _T | None:
    """``read(store)``, or None when the history file is gone (closed, unpickled)."""
    if store is None:
        return None
    try:
        return read(store)
    except Exception:  # a closed or damaged file: show what the frame holds
        return None


def _label_of(store: HistoryStore | None) -> str | None:
    try:
        base = store.base if store is not None else None
    except Exception:
        return None
    label = (base or {}).get("label")
    return label if isinstance(label, str) else None


__all__ = [
    "ChangesFrame",
    "EventsFrame",
    "IterationsFrame",
    "clamp",
    "describe",
    "linked",
    "text_table",
    "times",
    "where",
]
