"""Resolved state of findings: which flagged samples were dealt with since they were found.

A flagged finding is *resolved* when its sample was

- ``removed`` from the dataset,
- ``accepted``: its label is now the finding's suggestion,
- ``relabeled`` to another class than the one it had when the findings were made,
- ``kept``: a person decided to keep it as it is (a LabelEditor "keep" decision),
- ``reviewed``: a person marked it reviewed (a SampleGrid bulk "mark reviewed"; recorded
  as a ``mark_reviewed`` event in the history, so it is known again after a restart),

and *open* otherwise. Every view of a dataset reads the same state (computed per dataset
version and keep generation), so a sample fixed in a grid, in an editor or by a cell
(``ds.accept_suggestions``) shows as resolved everywhere and leaves the editor's queue.

The label a sample had when the findings were made is the findings' ``given_label`` column
when there is one (label issues), else the label it had when a view first showed these
findings.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ._per_dataset import PerDataset

__all__ = [
    "RESOLVED_STATES",
    "kept_ids",
    "mark_reviewed",
    "resolution",
    "reviewed_ids",
    "set_kept",
    "watch",
]

#: what a resolved finding's state can be
RESOLVED_STATES = ("removed", "accepted", "relabeled", "kept", "reviewed")
#: history events that mark findings reviewed / not reviewed
REVIEW_EVENTS = ("mark_reviewed", "unmark_reviewed")

_Key = tuple[str, Any]


class _Reviews:
    """What is known about the findings of one dataset: baselines, kept ids, listeners."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.baseline: dict[_Key, pd.Series] = {}
        self.kept: dict[_Key, set[int]] = {}
        self.reviewed: dict[_Key, set[int]] = {}  # read from the history's events once per key
        self.generation = 0
        self.cache: dict[_Key, tuple[tuple[int, int, int], pd.Series]] = {}
        self.listeners: weakref.WeakSet[Any] = weakref.WeakSet()


_reviews: PerDataset[_Reviews] = PerDataset(lambda ds: _Reviews())


def _key(findings: Any) -> _Key:
    """Findings of one family made at one dataset version share their review state (a subset
    such as ``issues.flagged`` is the same findings)."""
    return (str(findings.op), findings.version)


def generation(ds: Any) -> int:
    """Counter bumped whenever a keep decision on ``ds``'s findings is taken or undone."""
    return _reviews(ds).generation


def watch(ds: Any, widget: Any) -> None:
    """Call ``widget._reviews_changed()`` after keep decisions on ``ds`` (weakly held)."""
    r = _reviews(ds)
    with r.lock:
        r.listeners.add(widget)


def kept_ids(ds: Any, findings: Any) -> set[int]:
    """Sample ids of ``findings`` a person decided to keep."""
    r = _reviews(ds)
    with r.lock:
        return set(r.kept.get(_key(findings), ()))


def set_kept(ds: Any, findings: Any, ids: Iterable[int], kept: bool = True) -> None:
    """Mark (``kept=True``) or unmark samples of ``findings`` as kept; every view refreshes."""
    r = _reviews(ds)
    with r.lock:
        s = r.kept.setdefault(_key(findings), set())
        if kept:
            s.update(int(i) for i in ids)
        else:
            s.difference_update(int(i) for i in ids)
        r.generation += 1
    _tell(r)


def _tell(r: _Reviews) -> None:
    """Every view watching the dataset refreshes what it shows of the resolved state."""
    with r.lock:
        listeners = list(r.listeners)
    for w in listeners:
        try:
            w._reviews_changed()
        except Exception:  # a closed view must not break the decision
            pass


def _review_events(ds: Any, key: _Key) -> set[int]:
    """Ids marked reviewed by the ``mark_reviewed`` / ``unmark_reviewed`` events recorded in
    ``ds``'s history for the findings ``key``, replayed in order."""
    ids: set[int] = set()
    history = getattr(ds, "history", None)
    if history is None:
        return ids
    events = history.events
    if not len(events):
        return ids
    for op, params in zip(events["op"], events["params"], strict=True):
        if op not in REVIEW_EVENTS or not isinstance(params, dict):
            continue
        if (params.get("findings"), params.get("findings_version")) != key:
            continue
        marked = (int(i) for i in params.get("ids") or ())
        if op == "mark_reviewed":
            ids.update(marked)
        else:
            ids.difference_update(marked)
    return ids


def reviewed_ids(ds: Any, findings: Any) -> set[int]:
    """Sample ids of ``findings`` marked reviewed (recorded events, read once per findings)."""
    r = _reviews(ds)
    key = _key(findings)
    with r.lock:
        known = r.reviewed.get(key)
        if known is None:
            known = r.reviewed[key] = _review_events(ds, key)
        return set(known)


def mark_reviewed(ds: Any, findings: Any, ids: Iterable[int], *, reviewed: bool = True) -> int:
    """Mark samples of ``findings`` reviewed (or, ``reviewed=False``, not reviewed).

    One ``mark_reviewed`` (``unmark_reviewed``) event is recorded in the history with the
    ids and the findings they belong to (provenance as the caller's context says, e.g.
    ``widget``); no data changes. Every view shows them resolved (``"reviewed"``).

    Returns
    -------
    int
        The number of samples whose mark changed.
    """
    r = _reviews(ds)
    key = _key(findings)
    wanted = sorted({int(i) for i in ids})
    current = reviewed_ids(ds, findings)
    todo = [i for i in wanted if (i in current) != reviewed]
    if not todo:
        return 0
    op = "mark_reviewed" if reviewed else "unmark_reviewed"
    ds.history.record_event(
        op,
        {"findings": key[0], "findings_version": key[1], "ids": todo},
        {"n": len(todo)},
    )
    with r.lock:
        s = r.reviewed.setdefault(key, set())
        if reviewed:
            s.update(todo)
        else:
            s.difference_update(todo)
        r.generation += 1
    _tell(r)
    return len(todo)


def _as_text(values: Any) -> np.ndarray:
    """Labels compared as text (1 == "1" == 1.0 is not assumed: 1 and 1.0 differ)."""
    return np.array(["\0none" if v is None else str(v) for v in values], dtype=object)


def _labels_of(ds: Any, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, present) of ``ids`` in the current dataset (None where removed)."""
    pos = pd.Index(np.asarray(ds.ids)).get_indexer(ids)
    present = pos >= 0
    values = np.full(len(ids), None, dtype=object)
    if present.any():
        labels = np.asarray(ds.column(ds.label), dtype=object)
        values[present] = labels[pos[present]]
    return values, present


def _baseline(ds: Any, findings: Any, r: _Reviews) -> pd.Series:
    key = _key(findings)
    with r.lock:
        base = r.baseline.get(key)
    if base is not None and set(findings.ids.tolist()) <= set(base.index.tolist()):
        return base
    frame = findings.frame
    if "given_label" in frame.columns:
        new = frame["given_label"]
    else:
        ids = findings.ids
        new = pd.Series(_labels_of(ds, ids)[0], index=ids, dtype=object)
    with r.lock:
        old = r.baseline.get(key)
        if old is not None:  # keep what was known first; add the ids not seen before
            new = pd.concat([old, new[~new.index.isin(old.index)]])
        r.baseline[key] = new
    return new


def resolution(ds: Any, findings: Any) -> pd.Series:
    """State of every finding, indexed by sample id: one of :data:`RESOLVED_STATES`, or
    ``""`` (open, or not flagged). Cached per dataset version and keep generation."""
    r = _reviews(ds)
    key = _key(findings)
    stamp = (int(ds.version), r.generation, id(findings.frame))
    with r.lock:
        hit = r.cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    ids = findings.ids
    flagged = findings.flags.to_numpy(dtype=bool)
    values, present = _labels_of(ds, ids)
    current = _as_text(values)
    given = _as_text(_baseline(ds, findings, r).reindex(ids).to_numpy(dtype=object))
    state = np.full(len(ids), "", dtype=object)
    changed = present & (current != given)
    suggestion = findings.column("suggestion")
    accepted = np.zeros(len(ids), dtype=bool)
    if suggestion is not None:
        accepted = changed & (current == _as_text(suggestion.to_numpy(dtype=object)))
    kept = np.isin(ids, np.fromiter(kept_ids(ds, findings), dtype=np.int64))
    reviewed = np.isin(ids, np.fromiter(reviewed_ids(ds, findings), dtype=np.int64))
    state[reviewed & present] = "reviewed"
    state[kept & present] = "kept"
    state[changed & ~accepted] = "relabeled"
    state[accepted] = "accepted"
    state[~present] = "removed"
    state[~flagged] = ""
    out = pd.Series(state, index=ids, dtype=object)
    with r.lock:
        r.cache[key] = (stamp, out)
    return out
