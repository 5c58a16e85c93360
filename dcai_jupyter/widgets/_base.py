"""Shared machinery of the dataset widgets: static assets, dataset observation, the message loop."""

from __future__ import annotations

import logging
import pathlib
import threading
import uuid
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import anywidget
import numpy as np
import traitlets as t

from dcai_jupyter.core import SupersededError, _live

from ._per_dataset import PerDataset
from ._protocol import ProtocolError, error_text, is_null_scalar, json_scalar

logger = logging.getLogger("dcai_jupyter.widgets")

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"

MISSING_FRONT_END = """
export default {
  render({ el }) {
    const box = document.createElement("div");
    box.style.cssText = "padding:8px;border:1px solid #c00;color:#c00;font-family:sans-serif";
    box.textContent = "dcai_jupyter: the widget front end is not built. " +
      "Reinstall the package (pip install -e .) or run `npm ci && npm run build` in js/.";
    el.appendChild(box);
  },
};
"""


#: the requests (of every view) that read and change nothing: the only ones a view showing an
#: older ``ds`` it cannot follow still answers
READ_REQUESTS = frozenset(
    {"page", "detail", "bulk_preview", "item", "move", "select", "select_version", "code"}
)

_classes_cache: weakref.WeakKeyDictionary[Any, tuple[int, list[Any]]] = weakref.WeakKeyDictionary()
_classes_lock = threading.Lock()


def dataset_classes(ds: Any) -> list[Any]:
    """``ds.classes``, computed once per dataset version for all the views of a dataset.

    Without declared classes the Dataset derives them from the labels (O(rows)); every
    view reads them after every change, so they are shared here.
    """
    version = int(ds.version)
    with _classes_lock:
        hit = _classes_cache.get(ds)
    if hit is not None and hit[0] == version:
        return hit[1]
    classes = list(ds.classes)
    with _classes_lock:
        _classes_cache[ds] = (version, classes)
    return classes


_keys: PerDataset[str] = PerDataset(lambda ds: uuid.uuid4().hex)


def dataset_key(ds: Any) -> str:
    """A random key for ``ds``, the same for all its views (never reused by another dataset)."""
    return _keys(ds)


def static_asset(name: str, fallback: str) -> pathlib.Path | str:
    """Path of a built front-end file in ``dcai_jupyter/static``, or ``fallback`` if missing."""
    path = STATIC / name
    return path if path.is_file() else fallback


class _Views:
    """The open views of one dataset, in the order they were made, behind ONE observer.

    A change reaches every view in two rounds: first each view pushes what it sends about the
    change itself (a grid's patch: the rows it holds, updated in place), then each view's
    synced state follows (version, row count, classes; the version only when the view's own
    message did not carry it already: a relabel patch is then the only message of a grid).
    So the patches of all the open views leave the kernel back to back, before any state
    message, and the browser can re-render every view in the same frame instead of one
    message round apart. Views are
    held weakly: a view that is gone is dropped.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refs: list[weakref.ref[DatasetWidget]] = []

    def add(self, widget: DatasetWidget) -> None:
        with self._lock:
            self._refs.append(weakref.ref(widget))

    def discard(self, widget: DatasetWidget) -> None:
        with self._lock:
            self._refs = [r for r in self._refs if r() is not None and r() is not widget]

    def alive(self) -> list[DatasetWidget]:
        with self._lock:
            views = [r() for r in self._refs]
            if any(w is None for w in views):
                self._refs = [r for r in self._refs if r() is not None]
        return [w for w in views if w is not None]

    def __call__(self, ds: Any, change: Any) -> None:
        """The dataset observer (runs on the thread that made the change)."""
        # the views that push a message about the change go first (see ``_push_order``)
        views = sorted(self.alive(), key=lambda w: w._push_order)
        for step in ("_push_change", "_sync_dataset"):
            for w in views:
                try:
                    if step == "_push_change":
                        w._push_change(change)
                    else:
                        w._sync_dataset()
                except Exception:  # never break the cell or widget that made the change
                    logger.exception("dcai_jupyter widget refresh failed")


def _observed_views(ds: Any) -> _Views:
    views = _Views()
    ds.observe(views)
    return views


#: the views of a dataset (made, and registered as its observer, on first use)
_views_of: PerDataset[_Views] = PerDataset(_observed_views)


def _follow_newer(old: Any, new: Any, continued: bool) -> None:
    """A newer Dataset superseded ``old`` (its ``Dataset(...)`` cell ran again in this kernel):
    ``old``'s views show ``new`` when it continues the same history, else say they show an
    older ``ds`` (see :mod:`dcai_jupyter.core._live`)."""
    if continued:
        _keys.carry(old, new)  # the same history: its views keep handing each other patches
    views = _views_of.get(old)
    for w in views.alive() if views is not None else []:
        try:
            w._follow_newest()
        except Exception:  # one view must not keep the others on the old dataset
            logger.exception("dcai_jupyter: a view could not follow the newer Dataset")


_live.on_superseded(_follow_newer)


class DatasetWidget(anywidget.AnyWidget):
    """Base class: a view of a Dataset that pages data on request and refreshes on changes.

    Synced state is handles only (version, counts, classes, error text); rows travel in
    answers to custom-message requests. Message handlers may run on a comm thread (JupyterLab
    4.6 runs them on a kernel subshell) while a cell changes the dataset: trait updates are
    serialized by a lock and every page answer carries the dataset version it was read at.
    """

    _widget_name: ClassVar[str] = "DatasetWidget"
    #: when the view follows a change among the dataset's views: 0 for views that push a
    #: message about it (grid patches, editor "changed"), before the views whose follow-up
    #: reads more (e.g. a history summary) and must not delay those messages
    _push_order: ClassVar[int] = 1

    version = t.Int(0, help="Dataset version this view reflects (bumped on every change)").tag(
        sync=True
    )
    row_count = t.Int(0, help="Number of rows in the dataset").tag(sync=True)
    classes: t.List[Any] = t.List(help="Class values, in the dataset's order").tag(sync=True)
    label_column = t.Unicode("").tag(sync=True)
    dataset_name = t.Unicode("").tag(sync=True)
    error = t.Unicode("", help="Last error answered to the front end").tag(sync=True)
    dataset_key = t.Unicode(
        "",
        help="Names the dataset among the views open in a page: views of one dataset hand "
        "each other the relabel patches they receive, so all of them re-render at once",
    ).tag(sync=True)

    def __init__(self, ds: Any, **kwargs: Any) -> None:
        from dcai_jupyter.core._provenance import running_cell

        self._ds = ds
        self._lock = threading.RLock()
        self._follow_lock = threading.Lock()
        #: why edits are refused, when this view shows an older ``ds`` it cannot follow
        self._detached: str | None = None
        #: the newest dataset version a custom message of this view carried to the front end
        #: (a grid's patch, an editor's "changed"): the front end takes it from there, so the
        #: ``version`` trait follows without a state message of its own (see _sync_dataset)
        self._told_version: int | None = None
        #: per thread: the trait being set without a state message (see _set_quietly)
        self._quiet = threading.local()
        #: (cell id, execution count) of the cell that displayed (else created) this view:
        #: recorded with every edit made in it, so it stays identifiable after a restart
        self._cell: tuple[str | None, int | None] | None = running_cell()
        super().__init__(
            version=int(ds.version),
            row_count=len(ds),
            classes=[json_scalar(c) for c in dataset_classes(ds)],
            label_column=str(ds.label),
            dataset_name=str(ds.name or ""),
            dataset_key=dataset_key(ds),
            **kwargs,
        )
        _views_of(ds).add(self)
        self.on_msg(self._on_custom_msg)
        self._follow_newest()  # made on a ``ds`` a re-run Dataset(...) cell superseded already

    @property
    def dataset(self) -> Any:
        """The Dataset this widget shows (the newest one made on its history file in this
        kernel: re-running the ``Dataset(...)`` cell moves the views shown before to it)."""
        return self._ds

    # -- a newer Dataset on the same history -------------------------------------------
    def _follow_newest(self) -> bool:
        """Show the newest Dataset made on this view's history file in this kernel.

        When it continues the same history (the ``Dataset(...)`` cell ran again), the view
        shows it from now on and its edits go to it: nothing is lost, nothing detached.
        When it started a new history there (``resume=False``), the view keeps showing the
        data it showed, says so in its error line and refuses edits with that message.
        Returns True when the view moved to another dataset.
        """
        with self._follow_lock:
            old = self._ds
            new, continued = _live.newest(old)
            if new is old:
                return False
            if not continued:
                if self._detached is None:
                    self._detach(old)
                return False
            with self._lock:
                self._ds = new
                self._rebind(old, new)
            views = _views_of.get(old)
            if views is not None:
                views.discard(self)
            _views_of(new).add(self)
            self._watch_reviews(old, new)
        with self._lock, self.hold_sync():
            key, name = dataset_key(new), str(new.name or "")
            if self.dataset_key != key:
                self.dataset_key = key
            if self.dataset_name != name:
                self.dataset_name = name
        self._sync_dataset()
        return True

    def _watch_reviews(self, old: Any, new: Any) -> None:
        """A view told of the reviews recorded on ``old`` is told of those on ``new``."""
        from ._resolved import _reviews, watch

        r = _reviews.get(old)
        if r is not None and self in r.listeners:
            watch(new, self)

    def _detach(self, old: Any) -> None:
        """This view shows ``old``, whose history a newer Dataset did not continue."""
        name = str(getattr(old, "name", "") or "dataset")
        self._detached = (
            f"This view shows an older `ds` ({name!r}): the Dataset(...) cell ran again with "
            "resume=False and started a new history, so edits here are refused. Display the "
            "new one (e.g. run `ds` in a cell)."
        )
        with self._lock:
            self.error = self._detached

    def _rebind(self, old: Any, new: Any) -> None:
        """Hook for subclasses: drop what was derived from ``old`` (runs under the widget lock)."""

    # -- dataset -> view ---------------------------------------------------------------
    def _dataset_changed(self, change: Any) -> None:
        """Follow one recorded change of the dataset (from any thread): what this view sends
        about the change, then its synced state. With several views of a dataset, the
        dataset's observer (:class:`_Views`) runs the two steps for all views in turn."""
        self._push_change(change)
        self._sync_dataset()

    def _push_change(self, change: Any) -> None:
        """First round of a change: what the view sends about the change itself (patches)."""
        with self._lock:
            self._on_change(change)

    def _sync_dataset(self) -> None:
        """Second round: version, row count and classes as the dataset has them now, in one
        state message (only what changed is sent)."""
        ds = self._ds
        with self._lock, self.hold_sync():
            n = len(ds)
            if self.row_count != n:
                self.row_count = n
            classes = [json_scalar(c) for c in dataset_classes(ds)]
            if classes != self.classes:
                self.classes = classes
            version = int(ds.version)
            if version != self.version:
                if version == self._told_version:
                    # the front end follows it from the view's own message about the change;
                    # the trait still changes, so a reloaded or late-joining page reads it
                    self._set_quietly("version", version)
                else:
                    self.version = version

    def _tell(self, msg: dict[str, Any]) -> None:
        """Send a custom message about a change that carries the new ``version``: the front
        end follows that version from the message (no state message for it follows)."""
        self.send(msg)
        self._told_version = int(msg["version"])

    def _set_quietly(self, name: str, value: Any) -> None:
        """Set a synced trait without sending it (the front end knows the value already)."""
        self._quiet.name = name
        try:
            setattr(self, name, value)
        finally:
            self._quiet.name = None

    def _should_send_property(self, key: str, value: Any) -> bool:
        if key == getattr(getattr(self, "_quiet", None), "name", None):
            return False
        return bool(super()._should_send_property(key, value))

    def _on_change(self, change: Any) -> None:
        """Hook for subclasses (runs under the widget lock, before the synced state changes)."""

    def close(self) -> None:
        """Stop following the dataset and close the comm."""
        ds = getattr(self, "_ds", None)  # None when __init__ failed before it was set
        if ds is not None:
            _views_of(ds).discard(self)
        super().close()

    # -- view -> kernel ----------------------------------------------------------------
    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {}

    def _on_custom_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        """ipywidgets ``on_msg`` callback: answer one request."""
        self.send(self.handle_message(content))

    def handle_message(self, content: Any) -> dict[str, Any]:
        """Answer one request; errors become ``{"type": "error", "message"}`` answers.

        Parameters
        ----------
        content : Any
            The decoded custom message (normally a dict with ``type`` and ``request_id``).

        Returns
        -------
        dict
            The answer, with the request's ``request_id``.
        """
        request_id = content.get("request_id") if isinstance(content, dict) else None
        if request_id is not None and not isinstance(request_id, (str, int)):
            request_id = None
        try:
            if not isinstance(content, dict):
                raise ProtocolError("malformed request: expected a JSON object")
            kind = content.get("type")
            if kind == "ping":
                # heartbeat from an idle view: an unanswered ping is how a view learns that
                # its kernel object is gone (a restart the page was not told about)
                return {"type": "pong", "request_id": request_id, "version": int(self._ds.version)}
            handler = self._handlers().get(kind) if isinstance(kind, str) else None
            if handler is None:
                raise ProtocolError(f"malformed request: unknown message type {kind!r}")
            if self._detached is not None and kind not in READ_REQUESTS:
                return self._error(request_id, self._detached)
            # not under self._lock: a handler calls into the Dataset, which may call our
            # observer from another thread while holding its own lock
            try:
                answer = handler(content)
            except SupersededError:
                # the Dataset(...) cell ran again just now: once moved to the newer dataset
                # (if it continues the history), the request goes to it
                if not self._follow_newest():
                    raise
                answer = handler(content)
        except (ProtocolError, KeyError, ValueError, TypeError, IndexError) as exc:
            return self._error(request_id, error_text(exc))
        except SupersededError as exc:
            return self._error(request_id, self._detached or error_text(exc))
        except Exception as exc:
            logger.exception("dcai_jupyter widget request failed")
            return self._error(request_id, f"internal error: {error_text(exc)}")
        if self._detached is not None:  # the notice stays: it is why edits are refused
            if self.error != self._detached:
                with self._lock:
                    self.error = self._detached
        elif self.error:  # the last request was refused, this one was not
            with self._lock:
                self.error = ""
        answer["request_id"] = request_id
        return answer

    def _error(self, request_id: Any, message: str) -> dict[str, Any]:
        with self._lock:
            self.error = message
        return {"type": "error", "request_id": request_id, "message": message}

    def _match_class(self, value: Any) -> Any:
        """The class of ``ds.classes`` that a JSON value names (ProtocolError if none)."""
        if isinstance(value, (dict, list)) or value is None:
            raise ProtocolError(f"malformed request: label must be a class value, got {value!r}")
        classes = dataset_classes(self._ds)
        for c in classes:
            j = json_scalar(c)
            if type(j) is type(value) and j == value:
                return c
        for c in classes:
            if str(json_scalar(c)) == str(value):
                return c
        shown = ", ".join(repr(json_scalar(c)) for c in classes[:20])
        raise ProtocolError(f"unknown class {value!r} (classes: {shown})")

    def _accept(self, findings: Any, ids: list[int], *, reason: str) -> tuple[str, int | None]:
        """Accept the findings of ``ids`` as their ``action`` says; one recorded change.

        ``relabel`` (and ``label`` where a label is suggested): each sample gets its
        suggested label (samples already labelled so are left alone); ``remove``: the
        samples are removed. Returns ``(op, version)``, with
        ``version`` None when nothing needed to change. Refused (``ProtocolError``, nothing
        changed) for ``review`` findings and for ids that have no flagged finding or no
        suggestion.
        """
        if findings is None:
            raise ProtocolError("no findings were given to this widget: nothing to accept")
        action = findings.action
        if action not in ("relabel", "remove", "label"):
            raise ProtocolError(
                f"{findings.op} findings are for review: there is nothing to accept"
            )
        frame = findings.frame
        unknown = [i for i in ids if i not in frame.index]
        if unknown:
            raise ProtocolError(f"sample(s) {unknown[:10]} have no {findings.op} finding")
        flags = findings.flags
        unflagged = [i for i in ids if not flags.at[i]]
        if unflagged:
            raise ProtocolError(
                f"sample(s) {unflagged[:10]} are not flagged by {findings.op}: nothing to accept"
            )
        ds = self._ds
        if action == "remove":
            with self._widget_source():
                return "remove", int(ds.remove(ids, reason=reason))
        suggestion = findings.column("suggestion")
        if suggestion is None:
            raise ProtocolError(f"{findings.op} findings suggest no label: pick a class")
        targets = []
        for sid in ids:
            value = suggestion.at[sid]
            if is_null_scalar(value):
                raise ProtocolError(f"sample {sid} has no suggested label: pick a class instead")
            targets.append(self._match_class(json_scalar(value)))
        labels = np.asarray(ds.column(ds.label, ds.positions(ids)))
        todo = [
            (i, t) for i, t, cur in zip(ids, targets, labels, strict=True) if not same_label(t, cur)
        ]
        if not todo:
            return "relabel", None
        with self._widget_source():
            version = ds.relabel([i for i, _ in todo], [t for _, t in todo], reason=reason)
        return "relabel", int(version)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Displayed in a cell: that cell is where this view's edits come from."""
        from dcai_jupyter.core._provenance import running_cell

        cell = running_cell()
        if cell is not None:
            self._cell = cell
        return super()._repr_mimebundle_(**kwargs)

    def _widget_source(self) -> Any:
        """Context manager recording the changes made inside it with source ``widget``, the
        widget's class name and the cell that displayed it (id and execution count)."""
        from dcai_jupyter.core._provenance import widget_source

        cell_id, count = self._cell or (None, None)
        return widget_source(self._widget_name, cell_id=cell_id, execution_count=count)


def same_label(a: Any, b: Any) -> bool:
    """Whether two label values are the same class (missing equals missing)."""
    if is_null_scalar(a) or is_null_scalar(b):
        return is_null_scalar(a) and is_null_scalar(b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
