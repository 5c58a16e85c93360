"""``Dataset``: a pandas frame with stable sample ids whose every change is recorded."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _codec, _live, _provenance
from . import _fingerprint as fpr
from ._aside import set_aside
from ._change import Change, ChangePlan, _equal
from ._dataset_history import DatasetHistory
from ._dataset_reviews import DatasetReviews
from ._errors import BaseMismatchError, HistoryError, StateError
from ._history import REDO, UNDO, History, default_path, undo_stacks
from ._interrupt import deferring_interrupts
from ._roles import FEATURE_ROLES, Roles, detect_roles
from ._table import Table, apply_all, invert, touched_ids
from ._validate import labels_array, resolve_ids

Observer = Callable[["Dataset", dict[str, Any]], None]


class Dataset(DatasetReviews):
    """A training set whose every change is recorded in an iteration history.

    Parameters
    ----------
    df
        The base data. A unique integer index becomes the sample ids; otherwise rows
        are numbered 0..n-1 (a non-integer index is kept as a column).
    label
        The label column.
    name
        The dataset's name; the history defaults to ``.dcai/<name>.sqlite``. Without a
        name (and without ``history=``) the history is kept in memory only.
    history
        A path, ``":memory:"``, or a ``History``.
    classes
        Declared class set: labels outside it are refused. Default: the labels present.
    features, image, text, ignore, roles
        Column roles, detected from the values and shown in ``ds.roles``: numeric,
        categorical (any cardinality), text, image (arrays, bytes, PIL images or paths),
        datetime, embedding (1-D numeric arrays), id (unique per row: row numbers, codes,
        names; left out with a notice) or ignored. ``features`` lists the feature columns
        (default: every numeric, categorical, datetime and embedding column; a listed
        id-like column is used too); ``text`` (one column or several) and ``image`` name
        those roles; ``ignore`` leaves columns out; ``roles={"col": "categorical"}`` sets
        any column's role.
    resume
        On an existing history file of the same name and base data, replay its changes
        and continue (the default). ``resume=False`` keeps the old file aside (renamed
        ``<name>.<UTC time to the ns>-<n>.sqlite``, never replacing a file; the notice says
        where) and starts a new history.

    Notes
    -----
    One ``Dataset`` records into a history file at a time in a process. Making one on the
    file of a dataset still alive in this kernel (re-running the ``Dataset(...)`` cell)
    supersedes the older object: the newer one resumes from the file, as after a restart;
    the widgets showing the older one show the newer one instead (or, after
    ``resume=False``, say that they show an older ``ds``); and a change through the older
    object raises ``SupersededError`` (``ds.superseded_by`` is the newer one).
    """

    #: the class of ``ds.history``; a layer above may extend the view (e.g. recipe replay)
    _history_view_class: type[DatasetHistory] = DatasetHistory
    #: set when a newer Dataset on the same history file superseded this one (see ``_live``)
    _succession: _live.Succession | None = None
    #: while being made: the dataset of this process that recorded into the file until now
    _predecessor: Dataset | None = None

    def __init__(
        self,
        df: pd.DataFrame,
        /,
        *,
        label: str,
        name: str | None = None,
        history: str | os.PathLike[str] | History | None = None,
        classes: Sequence[Any] | None = None,
        features: Sequence[str] | None = None,
        image: str | None = None,
        text: str | Sequence[str] | None = None,
        ignore: Sequence[str] | None = None,
        roles: dict[str, str] | None = None,
        resume: bool = True,
    ) -> None:
        self._lock = threading.RLock()
        self._applying = False
        self._observers: list[Observer] = []
        self._frame_cache: tuple[int, pd.DataFrame] | None = None
        self._classes_cache: tuple[int, list[Any]] | None = None
        table = Table.from_frame(df, label)
        self._declared = classes is not None
        if classes is not None:
            classes = list(classes)
            if len(set(classes)) != len(classes):
                raise ValueError(f"classes has duplicates: {classes}")
            present = pd.unique(table.arrays[label][~pd.isna(table.arrays[label])])
            outside = [v for v in present if v not in set(classes)]
            if outside:
                raise ValueError(
                    f"labels {outside[:10]} in the data are not in the declared classes {classes}"
                )
        self._classes = classes
        self.roles: Roles = detect_roles(
            table.arrays,
            table.dtypes,
            label,
            features=features,
            text=text,
            image=image,
            ignore=ignore,
            roles=roles,
        )
        images, texts = self.roles.of("image"), self.roles.of("text")
        self.image_column: str | None = images[0] if images else None
        #: every text column (``text_column`` is the first: the one widgets show)
        self.text_columns: list[str] = texts
        self.text_column: str | None = texts[0] if texts else None
        if features is None:
            self.feature_columns = self.roles.of(*FEATURE_ROLES)
        else:
            self.feature_columns = list(features)
        ids_left_out = self.roles.of("id")
        # not for the dataset a recipe replay makes: the person who made the recorded one
        # was told, and a replay takes no roles= to act on it
        if ids_left_out and _provenance.overridden_source() != "recipe":
            first = ids_left_out[0]
            shown = "; ".join(f"{c!r} ({self.roles.why[c]})" for c in ids_left_out)
            # stdout: an expected situation said once in plain text, not a warning (stderr
            # shows as a pink box in Jupyter)
            print(
                f"dcai_jupyter: identifier-like columns left out of the features: {shown}. "
                f"To use one: roles={{{first!r}: 'categorical'}} (or 'numeric'), or list it "
                "in features="
            )
        self.name = name or "dataset"
        self.label = label
        table.rehash()
        self._table = table
        self._base_fp = table.fingerprint()
        self._history = self._open_history(history, name, resume)
        self._take_over()

    @property
    def history(self) -> DatasetHistory:
        """This dataset's ``History``; ``checkout(v)`` walks back from the current state."""
        view = self.__dict__.get("_history_view")
        if view is None:
            view = self._history_view = self._history_view_class(self._history, self)
        return view

    @property
    def superseded_by(self) -> Dataset | None:
        """The newer ``Dataset`` made on this one's history file in this process, or None.

        A superseded dataset records nothing more (its changes raise ``SupersededError``).
        """
        s = self._succession
        return None if s is None else s.new

    # ------------------------------------------------------------------ history set-up
    def _base_record(self) -> dict[str, Any]:
        t = self._table
        return {
            "fingerprint": fpr.to_hex(self._base_fp),
            "n_rows": len(t),
            "columns": t.columns,
            "dtypes": [str(t.dtypes[c]) for c in t.columns],
            "label": t.label,
            "index_name": t.index_name,
            "classes": _codec.encode_value(list(self._classes))
            if self._classes is not None
            else None,
        }

    def _open_history(self, history: Any, name: str | None, resume: bool) -> History:
        if isinstance(history, History):
            h = history
            if h.read_only:
                raise HistoryError(
                    f"{h.path} was opened read-only (open_history); a Dataset writes its history: "
                    f"pass the path instead, history={h.path!r}"
                )
            self._predecessor = _live.live_on(h.path)
        else:
            if history is None:
                history = ":memory:" if name is None else default_path(self.name)
            path = str(history)
            self._predecessor = _live.live_on(path)
            if path != ":memory:" and not resume and Path(path).exists():
                self._set_aside(path)
            h = History(path)
        if h.name is not None and h.name != self.name:
            raise HistoryError(
                f"{h.path} is the history of dataset {h.name!r}, not {self.name!r}; "
                f"use name={h.name!r} or another history= path"
            )
        base = h.base
        if base is None:
            h.store.set_base(self.name, self._base_record())
            self._version = 0
            self._undo: list[int] = []
            self._redo: list[int] = []
            return h
        if base["fingerprint"] != fpr.to_hex(self._base_fp):
            raise BaseMismatchError(
                f"{h.path} records dataset {self.name!r} with a different base "
                f"({base['n_rows']} rows, fingerprint {base['fingerprint']}; this data has "
                f"{len(self._table)} rows, fingerprint {fpr.to_hex(self._base_fp)}). Choose: "
                "resume=False starts a new history and keeps the old file aside; or replay the "
                "recipe onto the new data; or pass the original base data to resume"
            )
        head = h.head
        if head:
            apply_all(self._table, h.store.packed(1, head))
            self._table.rehash()
            want = h.store.fingerprint_at(head)
            if self._table.fingerprint() != want:
                raise HistoryError(
                    f"replaying {h.path} gave fingerprint {fpr.to_hex(self._table.fingerprint())} "
                    f"but version {head} recorded {fpr.to_hex(want)}"
                )
            last = h.changes["timestamp"].iloc[-1]
            print(
                f"dcai_jupyter: resumed {self.name!r} at version {head} from {h.path} "
                f"({head} changes, last {last:%Y-%m-%d %H:%M:%S} UTC)"
            )  # stdout: a notice, not an error (stderr shows as a pink box in Jupyter)
        self._version = head
        self._undo, self._redo = undo_stacks(h.store.ops())
        return h

    def _set_aside(self, path: str) -> None:
        """``resume=False``: move the history file at ``path`` aside (never over a file)."""
        old = self._predecessor
        if old is None:
            aside = set_aside(path)
        else:
            with old._lock:  # the dataset recording into it stops first, for good
                old_h = old._history
                old_h.close()  # a connection left open would delete the new file's -wal later
                aside = set_aside(path)
                old._history = History(aside, read_only=True)
                old.__dict__.pop("_history_view", None)
                old._succession = _live.Succession(self, False, path, str(aside))
                old._history.store.supersede(old._succession.message(old.name))
        print(
            f"dcai_jupyter: the previous history of {self.name!r} was kept aside as {aside} "
            f"(dj.open_history({str(aside)!r}) reads it); a new history starts at {path}"
        )

    def _take_over(self) -> None:
        """Become the dataset recording into this history file in this process; the one
        that recorded into it until now is superseded, and what showed it is told."""
        path = self._history.path
        old, self._predecessor = self._predecessor, None
        if old is not None and old is not self:
            with old._lock:  # it records nothing while this one takes over
                if old._succession is None:
                    self._catch_up()  # it may have recorded since this one read the file
                    # the same base and no version lost: this one continues that history
                    # (not so when the file was deleted meanwhile and started anew)
                    same = old._base_fp == self._base_fp and old._version <= self._version
                    old._succession = _live.Succession(self, same, path)
                    if old._history is not self._history:
                        old._history.store.supersede(old._succession.message(old.name))
        _live.register(self, path)
        if old is not None and old is not self and old._succession is not None:
            _live.notify(old, self, old._succession.continued)

    def _catch_up(self) -> None:
        """Apply the changes recorded in the file since this dataset replayed it."""
        h = self._history
        head = h.head
        if head <= self._version:
            return
        apply_all(self._table, h.store.packed(self._version + 1, head))
        self._table.rehash()
        if self._table.fingerprint() != h.store.fingerprint_at(head):
            raise HistoryError(f"replaying {h.path} to version {head} gave another fingerprint")
        self._version = head
        self._undo, self._redo = undo_stacks(h.store.ops())

    # ------------------------------------------------------------------ reads
    @property
    def version(self) -> int:
        """The number of recorded changes; +1 per change."""
        return self._version

    @property
    def stable_version(self) -> int | None:
        """The version, or None while a change is being applied in memory.

        For readers on another thread that take no lock: read it before and after reading
        the data; the same (not None) value both times means what was read is that version.
        """
        return None if self._applying else self._version

    @property
    def n_unlabeled(self) -> int:
        """Rows without a label (the unlabeled pool); kept up to date per change, O(1) to read."""
        with self._lock:
            return self._table.n_unlabeled

    def __len__(self) -> int:
        return len(self._table)

    @property
    def ids(self) -> np.ndarray:
        """Current sample ids, in row order (read-only).

        The ids array is replaced, never edited in place, when rows are removed or added,
        so the array returned stays a snapshot without a copy.
        """
        with self._lock:
            view = self._table.ids.view()
        view.flags.writeable = False
        return view

    @property
    def columns(self) -> list[str]:
        return list(self._table.columns)

    @property
    def classes(self) -> list[Any]:
        """The declared classes, or the sorted distinct labels present now."""
        if self._classes is not None:
            return list(self._classes)
        with self._lock:
            cached = self._classes_cache
            if cached is None or cached[0] != self._version:
                arr = self._table.arrays[self.label]
                vals = pd.unique(arr[~pd.isna(arr)]).tolist()
                try:
                    vals = sorted(vals)
                except TypeError:
                    pass
                cached = self._classes_cache = (self._version, vals)
        return list(cached[1])

    @property
    def fingerprint(self) -> str:
        """Content fingerprint of the current state (16 hex digits)."""
        with self._lock:
            return fpr.to_hex(self._table.fingerprint())

    @property
    def df(self) -> pd.DataFrame:
        """The current data, indexed by sample id.

        A copy-on-write snapshot: editing it never changes the dataset. Use
        ``relabel``/``remove``/``add`` so the change is recorded.
        """
        with self._lock:
            cached = self._frame_cache
            if cached is None or cached[0] != self._version:
                cached = (self._version, self._table.frame())
                self._frame_cache = cached
            return cached[1].copy(deep=False)

    def column(self, name: str, positions: Any = None) -> np.ndarray:
        """One column's values as they are now: a read-only snapshot, in row order.

        Parameters
        ----------
        name
            The column.
        positions
            Row positions (e.g. ``ds.positions(ids)``) to read only those rows; None (the
            default) reads every row.

        Returns
        -------
        numpy.ndarray
            Not writeable, and never changed by later changes to the dataset: a relabel or
            update after this call leaves the values returned here as they were. Reading
            every row copies nothing now; the next in-place change of this column copies it
            once (copy-on-write). With ``positions`` only those rows are copied.
        """
        if name not in self._table.arrays:
            raise KeyError(f"no column {name!r}; columns are {self._table.columns}")
        with self._lock:
            return self._table.column(name, None if positions is None else np.asarray(positions))

    def positions(self, ids: Any) -> np.ndarray:
        """Row positions of ``ids`` (KeyError naming unknown ids)."""
        with self._lock:
            return self._table.positions(ids)

    def take(self, ids: Any, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Rows by sample id, in the order given."""
        with self._lock:
            return self._table.frame(self._table.positions(ids), columns)

    def verify(self) -> None:
        """Recompute the fingerprint from every cell; raise ``StateError`` on a mismatch.

        The incremental fingerprint can only drift when internal state is changed
        without going through the Dataset's methods.
        """
        with self._lock:
            t = self._table
            expected, rest, lab = t.total, t.rest, t.label_h
            t.rehash()
            if t.total != expected:
                assert (
                    rest is not None
                    and lab is not None
                    and t.rest is not None
                    and t.label_h is not None
                )
                bad = t.ids[(rest != t.rest) | (lab != t.label_h)]
                raise StateError(
                    f"dataset {self.name!r} was changed outside its methods: rows {bad[:10].tolist()} "
                    "differ from the recorded state, and those edits are not in the history. "
                    "Re-create the Dataset from its base data (the history resumes it) and make the "
                    "edits with relabel/remove/add"
                )

    # ------------------------------------------------------------------ observers
    def observe(self, callback: Observer) -> None:
        """Call ``callback(dataset, change)`` after every recorded change (on the thread that made it)."""
        with self._lock:
            if callback not in self._observers:
                self._observers.append(callback)

    def unobserve(self, callback: Observer) -> None:
        with self._lock:
            if callback in self._observers:
                self._observers.remove(callback)

    def _notify(self, change: dict[str, Any]) -> None:
        for cb in list(self._observers):
            try:
                cb(self, change)
            except Exception as e:
                warnings.warn(
                    f"dataset observer {cb!r} failed: {e!r}", RuntimeWarning, stacklevel=2
                )

    # ------------------------------------------------------------------ validation
    def _labels_array(self, labels: Any, n: int) -> np.ndarray:
        return labels_array(self._table, self._classes, labels, n)

    def _ids_array(self, ids: Any) -> np.ndarray:
        # ids as people pass them: a list, array, Index, Series, or a boolean mask
        return resolve_ids(ids, self.ids)

    # ------------------------------------------------------------------ mutations
    @deferring_interrupts  # the stop button lands before the write or after the whole change
    def _commit(
        self,
        op: str,
        params: dict[str, Any] | None,
        deltas: list[dict[str, Any]],
        n_rows: int,
        fp: int,
        apply: Callable[[], None],
        encoded: str | None = None,
    ) -> int:
        """Write the change, then apply it in memory; nothing changes if the write fails."""
        _live.check_live(self)
        version = self._history.store.append(
            self._version, op, params, deltas, n_rows, fp, _provenance.current(), encoded
        )
        # Readers that take no lock (a widget paging from another thread) check
        # ``stable_version`` before and after reading: it is None while memory changes.
        self._applying = True
        try:
            apply()
            self._version = version
        finally:
            self._applying = False
        if op not in (UNDO, REDO):
            self._undo.append(version)
            self._redo.clear()
        if self._table.fingerprint() != fp:  # pragma: no cover - guards the incremental hash
            raise StateError(f"internal error: fingerprint after {op} differs from the planned one")
        return version

    def relabel(self, ids: Any, labels: Any, *, reason: str | None = None) -> int:
        """Set the label of ``ids`` to ``labels``; one recorded change. Returns the new version."""
        ids_arr = self._ids_array(ids)
        if len(ids_arr) == 0:
            raise ValueError("no ids given; nothing to relabel")
        params = {"reason": str(reason)} if reason is not None else {}
        with self._lock:
            t = self._table
            if t.label_origin and any(int(i) in t.label_origin for i in ids_arr):
                # a person's label replaces a pseudo-label: the general path records the origin
                return self.apply(self.plan("relabel", params).relabel(ids_arr, labels).change())
            # The common click: plan the set on the live table (no copy), write, then commit.
            pos = t.positions(ids_arr)
            new = self._labels_array(labels, len(pos))
            label_arr = t.arrays[self.label]
            old = label_arr[pos]
            changed = ~_equal(old, new)
            if not changed.any():
                return self._version  # already so: nothing to record
            pos, new, old = pos[changed], new[changed], old[changed]
            delta = {
                "t": "set",
                "i": t.ids[pos].tolist(),
                "o": _codec.encode_array(old),
                "n": _codec.encode_array(new),
            }
            plan = t.plan_set(self.label, pos, new)
            version = self._commit(
                "relabel", params, [delta], len(pos), plan.fingerprint, lambda: t.commit_set(plan)
            )
            change = {"version": version, "op": "relabel", "ids": delta["i"]}
        self._notify(change)
        return version

    def update(self, ids: Any, column: str, values: Any, *, reason: str | None = None) -> int:
        """Set a feature or display ``column`` of ``ids`` to ``values``; one recorded change.

        For repairs and in-place augmentation. Labels change through ``relabel``.
        Returns the new version (unchanged when every value is already so).
        """
        ids_arr = self._ids_array(ids)
        if len(ids_arr) == 0:
            raise ValueError("no ids given; nothing to update")
        params = {"column": column} | ({"reason": str(reason)} if reason is not None else {})
        return self.apply(self.plan("update", params).update(ids_arr, column, values).change())

    def remove(self, ids: Any, *, reason: str | None = None) -> int:
        """Remove samples; their ids are never reused. Returns the new version."""
        ids_arr = self._ids_array(ids)
        if len(ids_arr) == 0:
            raise ValueError("no ids given; nothing to remove")
        params = {"reason": str(reason)} if reason is not None else {}
        return self.apply(self.plan("remove", params).remove(ids_arr).change())

    def add(self, rows: pd.DataFrame, *, reason: str | None = None) -> np.ndarray:
        """Append rows; they get new ids (never reused ones). Returns the new ids.

        Rows whose label is missing join the unlabeled pool (``ds.pool``).
        """
        if not isinstance(rows, pd.DataFrame):
            raise TypeError(f"add() takes a DataFrame of rows; got {type(rows).__name__}")
        if len(rows) == 0:
            raise ValueError("no rows given; nothing to add")
        params = {"reason": str(reason)} if reason is not None else {}
        plan = self.plan("add", params)
        new_ids = plan.add(rows)
        self.apply(plan.change())
        return new_ids

    # ------------------------------------------------------------------ the change API
    def plan(self, op: str, params: dict[str, Any] | None = None) -> ChangePlan:
        """Start planning one change named ``op`` with JSON ``params`` (see ``ChangePlan``).

        ``ds.apply(ds.plan("my_fix", {"why": "..."}).relabel(ids, labels).change())``
        records one change; nothing happens to the dataset until ``apply``.
        """
        with self._lock:
            work = self._table.copy()
            token = (id(self), self._version)
        return ChangePlan(work, op, params, classes=self._classes, planned=token)

    def apply(self, change: Change) -> int:
        """Record ``change`` in the history and apply it; returns the new version.

        The change must have been planned on the current state (same fingerprint).
        An empty change records nothing. If the write fails, nothing changes.
        """
        if not isinstance(change, Change):
            raise TypeError(
                f"apply() takes a Change (from ds.plan(...).change()); got {type(change).__name__}"
            )
        if change.empty:
            return self._version
        with self._lock:
            current = fpr.to_hex(self._table.fingerprint())
            if change.base != current:
                raise StateError(
                    f"this change ({change.op}) was planned on another state of the data "
                    f"(fingerprint {change.base}; the dataset is now at {current}, version "
                    f"{self._version}). Plan it again on the current data"
                )
            if change._table is not None and change._planned == (id(self), self._version):
                work = change._table.copy()
            else:
                work = self._table.copy()
                for d in change.deltas:
                    work.apply_delta(d)
            deltas = list(change.deltas)
            version = self._commit(
                change.op,
                change.params,
                deltas,
                change.n_rows,
                work.fingerprint(),
                lambda: self._swap(work),
                change._encoded,
            )
            note = {"version": version, "op": change.op, "ids": change.ids}
        self._notify(note)
        return version

    def revert_to(self, version: int, *, reason: str | None = None) -> int:
        """Bring the data back to ``version`` as one new recorded change (history is kept).

        Returns the new version; the state then has the fingerprint recorded at ``version``.
        """
        version = self._history.store.check_version(version)
        with self._lock:
            if version == self._version:
                return self._version
            deltas = [
                invert(d)
                for change in reversed(self._history.store.deltas(version + 1, self._version))
                for d in reversed(change)
            ]
            params: dict[str, Any] = {"to": version}
            if reason is not None:
                params["reason"] = str(reason)
            new = self._apply_recorded("revert", params, deltas)
            note = {"version": new, "op": "revert", "ids": touched_ids(deltas)}
        self._notify(note)
        return new

    # ------------------------------------------------------------------ origins
    @property
    def origins(self) -> pd.DataFrame:
        """Where rows and labels came from, by sample id: rows an operation made.

        Columns ``origin`` (e.g. ``"synthetic:smote"``; None for original or added rows),
        ``source_id`` (the sample a derived row was made from) and ``label_origin`` (e.g.
        ``"pseudo"``; None when a person gave the label). Only rows with any origin appear.
        """
        with self._lock:
            t = self._table
            ids = sorted(set(t.origin) | set(t.source) | set(t.label_origin))
            frame = pd.DataFrame(
                {
                    "origin": pd.Series([t.origin.get(i) for i in ids], dtype=object),
                    "source_id": pd.Series([t.source.get(i) for i in ids], dtype="Int64"),
                    "label_origin": pd.Series([t.label_origin.get(i) for i in ids], dtype=object),
                },
            )
        frame.index = pd.Index(ids, name=t.index_name, dtype=np.int64)
        return frame

    @property
    def has_origins(self) -> bool:
        """Whether some row or label was made by an operation (``origins`` is not empty).

        O(1): the views ask it after every change, where building ``origins`` costs a
        DataFrame each time.
        """
        with self._lock:
            t = self._table
            return bool(t.origin or t.source or t.label_origin)

    def ids_with_origin(self, origin: str) -> np.ndarray:
        """Ids of rows whose origin is ``origin`` or starts with ``origin + ":"``, or whose
        label origin is ``origin`` (e.g. ``"synthetic"``, ``"synthetic:smote"``, ``"pseudo"``)."""
        with self._lock:
            t = self._table
            hits = {
                i
                for store in (t.origin, t.label_origin)
                for i, g in store.items()
                if g == origin or g.startswith(origin + ":")
            }
            return np.array([i for i in t.ids.tolist() if i in hits], dtype=np.int64)

    def remove_origin(self, origin: str, *, reason: str | None = None) -> int:
        """Remove every row made with ``origin`` (or ``origin:...``): one recorded change.

        E.g. ``"synthetic"``, ``"synthetic:smote"``, ``"augmented"``. Returns the new version.
        """
        ids = self.ids_with_origin(origin)
        with self._lock:
            ids = np.array([i for i in ids.tolist() if i in self._table.origin], dtype=np.int64)
        if len(ids) == 0:
            present = sorted(set(self.origins["origin"].dropna()))
            raise ValueError(f"no row has origin {origin!r}; origins present: {present}")
        return self.remove(ids, reason=reason)

    def _swap(self, work: Table) -> None:
        self._table = work

    def _apply_recorded(self, op: str, params: dict[str, Any], deltas: list[dict[str, Any]]) -> int:
        work = self._table.copy()
        for d in deltas:
            work.apply_delta(d)
        ids = touched_ids(deltas)
        return self._commit(
            op, params, deltas, len(set(ids)), work.fingerprint(), lambda: self._swap(work)
        )

    def undo(self) -> int:
        """Undo the most recent change not yet undone (recorded as an ``undo`` change)."""
        with self._lock:
            if not self._undo:
                raise ValueError("nothing to undo")
            target = self._undo[-1]
            deltas = [invert(d) for d in reversed(self._history.store.deltas(target, target)[0])]
            version = self._apply_recorded(UNDO, {"undoes": target}, deltas)
            self._redo.append(self._undo.pop())
            change = {"version": version, "op": UNDO, "ids": touched_ids(deltas)}
        self._notify(change)
        return version

    def redo(self) -> int:
        """Re-apply the most recently undone change (recorded as a ``redo`` change)."""
        with self._lock:
            if not self._redo:
                raise ValueError("nothing to redo")
            target = self._redo[-1]
            deltas = self._history.store.deltas(target, target)[0]
            version = self._apply_recorded(REDO, {"redoes": target}, deltas)
            self._undo.append(self._redo.pop())
            change = {"version": version, "op": REDO, "ids": touched_ids(deltas)}
        self._notify(change)
        return version

    def checkout(self, version: int) -> pd.DataFrame:
        """The data as it was at ``version``, walked back from the current state."""
        version = self._history.store.check_version(version)
        with self._lock:
            work = self._table.copy()
            head = self._version
            changes = self._history.store.deltas(version + 1, head)
        for deltas in reversed(changes):
            for d in reversed(deltas):
                work.apply_delta(invert(d))
        return work.frame()

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, rows={len(self)}, label={self.label!r}, "
            f"version={self._version}, history={self.history.path!r})"
        )
