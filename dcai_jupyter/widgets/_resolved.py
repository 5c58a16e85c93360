"""Resolved state of findings: which flagged samples were dealt with since they were found.

A flagged finding is *resolved* when its sample was

- ``removed`` from the dataset,
- ``accepted``: its label is now the finding's suggestion,
- ``relabeled`` to another class than the one it had when the findings were made,
- ``kept``: a person decided to keep it as it is (a LabelEditor "keep" decision),
- ``reviewed``: a person marked it reviewed (a SampleGrid bulk "mark reviewed"),

and *open* otherwise. "kept" and "reviewed" are core's review state
(``ds.record_review`` / ``ds.review_ids``): events in the history keyed by the findings'
own identity (``findings.key``), so they are known again after a restart and follow undo,
redo and revert. Every view of a dataset reads the same state (computed per dataset
version and review generation), so a sample fixed in a grid, in an editor or by a cell
(``ds.accept_suggestions``, ``ds.record_review``) shows as resolved everywhere and leaves
the editor's queue.

The label a sample had when the findings were made is read from the dataset at the
findings' version (the labels now when the findings carry no version).
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

_Key = Any  # a FindingsKey


class _Reviews:
    """What the views of one dataset share about its findings: label baselines, the review
    generation, the views to tell when a review is recorded."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.baseline: dict[_Key, pd.Series] = {}
        self.generation = 0
        self.cache: dict[_Key, tuple[tuple[int, int, int], pd.Series]] = {}
        self.listeners: weakref.WeakSet[Any] = weakref.WeakSet()

    def recorded(self, ds: Any, note: Any) -> None:
        """core's review observer: a review event was recorded (any view, or a cell)."""
        with self.lock:
            self.generation += 1
        _tell(self)


def _make(ds: Any) -> _Reviews:
    r = _Reviews()
    observe = getattr(ds, "observe_reviews", None)
    if observe is not None:
        observe(r.recorded)
    return r


_reviews: PerDataset[_Reviews] = PerDataset(_make)


def _key(findings: Any) -> _Key:
    """Findings of one op, params and dataset version share their review state (a subset
    such as ``issues.flagged`` is the same findings)."""
    return findings.key


def generation(ds: Any) -> int:
    """Counter bumped whenever a review (keep, mark reviewed, or their undoing) is recorded
    on ``ds``'s findings."""
    return _reviews(ds).generation


def watch(ds: Any, widget: Any) -> None:
    """Call ``widget._reviews_changed()`` after each review recorded on ``ds`` (weakly held)."""
    r = _reviews(ds)
    with r.lock:
        r.listeners.add(widget)


def kept_ids(ds: Any, findings: Any) -> set[int]:
    """Sample ids of ``findings`` a person decided to keep (in effect now)."""
    return set(ds.review_ids(findings, "kept"))


def set_kept(ds: Any, findings: Any, ids: Iterable[int], kept: bool = True) -> int:
    """Record that samples of ``findings`` are kept (``kept=False``: no longer); every view
    refreshes. Returns the number of samples whose state changed."""
    _reviews(ds)  # the views hear of it
    return int(ds.record_review(findings, ids, "kept", undo=not kept))


def _tell(r: _Reviews) -> None:
    """Every view watching the dataset refreshes what it shows of the resolved state."""
    with r.lock:
        listeners = list(r.listeners)
    for w in listeners:
        try:
            w._reviews_changed()
        except Exception:  # a closed view must not break the decision
            pass


def reviewed_ids(ds: Any, findings: Any) -> set[int]:
    """Sample ids of ``findings`` marked reviewed (in effect now)."""
    return set(ds.review_ids(findings, "reviewed"))


def mark_reviewed(ds: Any, findings: Any, ids: Iterable[int], *, reviewed: bool = True) -> int:
    """Mark samples of ``findings`` reviewed (or, ``reviewed=False``, not reviewed).

    One ``mark_reviewed`` (``unmark_reviewed``) event is recorded in the history (core's
    ``ds.record_review``) with the ids and the findings' key (provenance as the caller's
    context says, e.g. ``widget``); no data changes. Every view shows them resolved
    (``"reviewed"``).

    Returns
    -------
    int
        The number of samples whose mark changed.
    """
    _reviews(ds)  # the views hear of it
    return int(ds.record_review(findings, ids, "reviewed", undo=not reviewed))


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


def _labels_at(ds: Any, findings: Any) -> pd.Series:
    """The labels of ``findings``' samples when the findings were made: at their version
    (walked back from the current state), or now when they carry none."""
    ids = findings.ids
    version = findings.version
    if version is not None and int(version) != int(ds.version):
        try:
            then = ds.checkout(int(version))[ds.label]
        except (ValueError, KeyError):  # a version this dataset does not have
            then = None
        if then is not None:
            return pd.Series(then.reindex(ids).to_numpy(dtype=object), index=ids, dtype=object)
    return pd.Series(_labels_of(ds, ids)[0], index=ids, dtype=object)


def _baseline(ds: Any, findings: Any, r: _Reviews) -> pd.Series:
    key = _key(findings)
    with r.lock:
        base = r.baseline.get(key)
    if base is not None and set(findings.ids.tolist()) <= set(base.index.tolist()):
        return base
    new = _labels_at(ds, findings)
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
