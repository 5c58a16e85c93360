"""The widget <-> kernel message protocol: requests, their validation, answers, JSON values.

One request/response channel per widget, on the ipywidgets custom-message comm
(``model.send`` in the browser, ``Widget.on_msg`` here). Every request is an object with a
``type`` and a ``request_id`` chosen by the browser; every answer echoes the ``request_id``:

- ``{"type": "page", "offset", "limit", "sort": {"column", "ascending"} | null,
  "filter": {"label": <class> | null, "flagged": bool, "text": str,
  "review": "" | "open" | "resolved"}}``
  -> :class:`PageAnswer` (``total`` = rows matching the filter; with findings also each
  row's ``resolved`` state and the ``counts`` of flagged and resolved findings; the
  samples per label, ``labels``, and one number format per numeric column, ``formats``)
- ``{"type": "bulk", "action": "accept" | "relabel" | "remove" | "review", "scope":
  "selection" | "filter", "ids": [...] (selection), "filter": {...} (as a page's),
  "label": <class> (relabel), "expect": <int> | null}`` -> :class:`OkAnswer` with ``n``;
  ``bulk_preview`` (same scope, no action) -> how many samples each action would touch
- edits (``relabel``, ``remove``, ``accept``, and the LabelEditor's ``decide``/``move``/
  ``undo``) -> :class:`OkAnswer`
- ``{"type": "ping"}`` -> ``{"type": "pong", "version"}`` (a view's heartbeat)
- pushed by the kernel, unasked: ``{"type": "patch", ...}`` (a small relabel, with the
  counts) and ``{"type": "counts", "labels"}`` (the samples per label of a large dataset,
  counted in the background after a page was answered without them)
- anything invalid -> :class:`ErrorAnswer`, and nothing changes.

Rows never travel in traitlets: the synced state holds handles only (schema, counts,
classes, version), so what a view costs on the wire is bounded by the screen, not by the
dataset.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from ._images import image_data_url

__all__ = [
    "MAX_LIMIT",
    "ErrorAnswer",
    "OkAnswer",
    "PageAnswer",
    "PageQuery",
    "ProtocolError",
    "column_json",
    "error_text",
    "is_null_scalar",
    "json_scalar",
    "parse_bulk_request",
    "parse_ids",
    "parse_page_request",
]

#: what a bulk request can do: accept the open findings' suggestions, relabel to a class,
#: remove, mark the open findings reviewed
BULK_ACTIONS = ("accept", "relabel", "remove", "review", "unreview")

#: largest page the kernel answers (the browser asks for ~50-100 rows at a time)
MAX_LIMIT = 500
#: longest id list accepted in one edit message
MAX_EDIT_IDS = 100_000
#: text values longer than this are clamped in pages (the browser shows them clamped anyway)
TEXT_CLAMP = 2000
#: side of the thumbnails in grid pages
THUMB_SIZE = 64


class _PageAnswerRequired(TypedDict):
    """The keys of every page answer."""

    type: str  # "page"
    version: int  # the dataset version every value of the page was read at
    offset: int
    limit: int
    total: int  # rows matching the query's filter
    row_count: int  # rows in the dataset
    ids: list[int]
    columns: dict[str, list[Any]]  # by schema column name, aligned with ids


class PageAnswer(_PageAnswerRequired, total=False):
    """Answer to a ``page`` request: the rows ``offset .. offset+limit`` of the query."""

    # with findings: each row's resolved state (None: open or not flagged), and the counts
    # of flagged and resolved findings
    resolved: list[str | None]
    counts: dict[str, int]
    # when the dataset has rows without a label (the pool): labeled and unlabeled rows
    pool: dict[str, int]
    # samples per label: {"values": [[label, n], ...], "other_classes", "other_rows", "version"}
    labels: dict[str, Any]
    # by numeric column name: {"decimals": d, "group": bool} or {"exp": digits}
    formats: dict[str, dict[str, Any]]
    # findings with groups and keepers (duplicates): per row, the data columns whose value
    # differs from its group's keeper (None: a keeper, or in no group)
    differs: list[list[str] | None]


class OkAnswer(TypedDict, total=False):
    """Answer to an edit: what it did and the dataset version after it."""

    type: str  # "ok"
    op: str
    version: int
    ids: list[int]
    request_id: Any


class ErrorAnswer(TypedDict):
    """A refused request: nothing changed; ``message`` says why (shown in the widget)."""

    type: str  # "error"
    request_id: Any
    message: str


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
    flagged: bool = False
    text: str = ""
    review: str = ""  # "": any; "open": flagged, not resolved; "resolved": resolved since

    @property
    def filter_key(self) -> tuple[Hashable, ...]:
        label = repr(self.label) if self.has_label_filter else None
        return (label, self.flagged, self.text.casefold(), self.review)

    @property
    def filtered(self) -> bool:
        return self.has_label_filter or self.flagged or bool(self.text) or bool(self.review)


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
    has_findings: bool,
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
    # "issues_only" is the name older front ends send
    name = "flagged" if "flagged" in flt else "issues_only"
    flagged = flt.get(name, False)
    if not isinstance(flagged, bool):
        raise ProtocolError(f"malformed request: filter.{name} must be true or false")
    if flagged and not has_findings:
        raise ProtocolError(
            "no findings were given to this widget: cannot show flagged samples only "
            "(pass findings=ds.find_label_issues() or another Findings)"
        )
    text = flt.get("text") or ""
    if not isinstance(text, str):
        raise ProtocolError("malformed request: filter.text must be a string")
    review = flt.get("review") or ""
    if review not in ("", "open", "resolved"):
        raise ProtocolError(
            f"malformed request: filter.review must be '', 'open' or 'resolved', got {review!r}"
        )
    if review and not has_findings:
        raise ProtocolError(
            "no findings were given to this widget: nothing is resolved or open "
            "(pass findings=ds.find_label_issues() or another Findings)"
        )
    return PageQuery(
        offset=offset,
        limit=limit,
        sort_column=column,
        ascending=ascending,
        label=label,
        has_label_filter=has_label,
        flagged=flagged,
        text=text.strip()[:200],
        review=review,
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


def parse_bulk_request(msg: dict[str, Any], *, preview: bool = False) -> dict[str, Any]:
    """Validate a ``bulk`` (or, ``preview=True``, a ``bulk_preview``) request.

    Returns ``{"action", "scope", "ids", "filter", "label", "expect"}`` (``action`` None
    for a preview); raises ProtocolError with a readable message.
    """
    action = None
    if not preview:
        action = msg.get("action")
        if action not in BULK_ACTIONS:
            raise ProtocolError(
                f"malformed request: bulk action must be one of {', '.join(BULK_ACTIONS)}, "
                f"got {action!r}"
            )
    scope = msg.get("scope")
    ids: list[int] = []
    flt: Any = None
    if scope == "selection":
        ids = parse_ids(msg.get("ids"))
    elif scope == "filter":
        flt = msg.get("filter") or {}
        if not isinstance(flt, dict):
            raise ProtocolError("malformed request: filter must be an object")
    else:
        raise ProtocolError(
            f"malformed request: bulk scope must be 'selection' or 'filter', got {scope!r}"
        )
    if action == "relabel" and (msg.get("label") is None or msg.get("label") == ""):
        raise ProtocolError("malformed request: relabel needs a label (pick a class)")
    expect = msg.get("expect")
    if expect is not None and (isinstance(expect, bool) or not isinstance(expect, int)):
        raise ProtocolError(f"malformed request: expect must be an integer, got {expect!r}")
    return {
        "action": action,
        "scope": scope,
        "ids": ids,
        "filter": flt,
        "label": msg.get("label"),
        "expect": expect,
    }
