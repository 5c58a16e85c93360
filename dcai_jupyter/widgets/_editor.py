"""LabelEditor: a keyboard-driven review queue of any family's findings."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import traitlets as t

from ._base import MISSING_FRONT_END, DatasetWidget, same_label, static_asset
from ._counts import number_format
from ._images import image_data_url
from ._ordering import grouped_order
from ._protocol import ProtocolError, is_null_scalar, json_scalar
from ._resolved import kept_ids, resolution, set_kept, watch
from ._schema import ID_COLUMN, as_findings

__all__ = ["LabelEditor"]

#: side of the large image shown for the current sample (smaller images are scaled in CSS)
EDITOR_IMAGE_SIZE = 320
#: side of the images of the other members of the current sample's group
PEER_IMAGE_SIZE = 96
#: other members of a group shown beside the current sample
MAX_PEERS = 5
#: feature values shown beside the sample
EDITOR_FIELDS = 8
#: decisions a person can take on a queue entry
DECISIONS = ("accept", "label", "remove", "keep")
#: the changes that bring the data back to an older state: after one, a decision made on the
#: state left may no longer be in effect
RESTORING_OPS = ("undo", "redo", "revert")
#: a change of at most this many samples names them to the views (which then reload the item
#: shown only when the change touched it); larger ones reload it
CHANGED_MAX_IDS = 2000


@dataclass
class _Decision:
    action: str  # one of DECISIONS
    sample_id: int
    before: Any
    after: Any
    version_after: int | None  # None when the decision changed nothing in the dataset
    made_at: int = 0  # the dataset version the decision was made at

    @property
    def anchor(self) -> int:
        """The version whose state the decision holds for (see ``Dataset.in_effect``)."""
        return self.made_at if self.version_after is None else self.version_after


def review_queue(findings: Any) -> np.ndarray:
    """Sample ids of the flagged findings in review order: most suspicious first.

    With a ``group`` role, a group's flagged members are adjacent (the group ranked by its
    most suspicious member), the keeper first.
    """
    flagged = findings.frame[findings.flags.to_numpy(dtype=bool)]
    ids = flagged.index.to_numpy(dtype=np.int64)
    # ties by sample id, as Findings.sorted(): start from the ids in ascending order
    by_id = np.argsort(ids, kind="stable")
    flagged, ids = flagged.iloc[by_id], ids[by_id]
    score = flagged[findings.roles["score"]].to_numpy(dtype=float, na_value=np.nan)
    group_col = findings.roles.get("group")
    if group_col is None:
        order = np.lexsort((np.arange(len(ids)), -np.where(np.isnan(score), -np.inf, score)))
        return ids[order]
    try:
        codes, _ = pd.factorize(flagged[group_col], sort=True, use_na_sentinel=True)
    except TypeError:
        codes, _ = pd.factorize(flagged[group_col].astype(str), sort=True)
    keeper_col = findings.roles.get("keeper")
    keeper = (
        None
        if keeper_col is None
        else flagged[keeper_col].eq(True).to_numpy(dtype=bool, na_value=False)
    )
    order = grouped_order(
        score, np.asarray(codes, dtype=np.int64), keeper, by="score", ascending=False
    )
    return ids[order]


class LabelEditor(DatasetWidget):
    """Review queue: one sample at a time, large, with what was found about it.

    The queue holds the flagged findings, most suspicious (highest score) first, the
    members of a group (duplicates) one after the other; or every row when no findings are
    given. Keys (the editor takes the keyboard focus when it is first displayed, and when
    clicked; it shows "click here to review" while it does not have it): Enter accepts the
    finding as its ``action`` says (set the suggested label, or remove the sample; offered
    only where there is a suggestion, e.g. an active-learning pick's predicted label); when
    every class name is one character (digits, letters) its key picks it by name (``2`` is
    class 2), otherwise 1-9 pick a class by position (0 = tenth class, the key shown on
    each class button); Delete removes the sample, ArrowRight/j and ArrowLeft/k move, s
    skips, u undoes the last decision (a letter that names a class picks that class); Esc
    (or a click on the cell's prompt) hands the keys back to the notebook. Each decision
    is a ``Dataset`` call (``relabel``/``remove``/``undo``) recorded with source ``widget``.

    Parameters
    ----------
    ds : Dataset
        The dataset to review.
    findings : Findings, optional
        What a find step found, e.g. ``ds.find_label_issues()``; its declared roles say
        what is shown (suggestion, score, reason, group and keeper) and what accepting does.
    issues : Findings, optional
        Alias of ``findings``.
    include_resolved : bool
        Also queue the findings resolved since they were made (relabeled, accepted, kept,
        reviewed or removed, in any view or by a cell). By default they are skipped and
        counted: "181 to review · 12 resolved", also those resolved elsewhere while the
        editor is open (a cell's ``ds.accept_suggestions``, a grid's bulk action): moving
        on passes over them, and the sample shown moves on when it is resolved elsewhere.

    Attributes
    ----------
    position : int
        Index of the current sample in the queue (``total`` when done).
    reviewed : int
        Number of queue entries decided.
    """

    _esm = static_asset("editor.js", MISSING_FRONT_END)
    _css = static_asset("widgets.css", "")
    _widget_name = "LabelEditor"
    _push_order = 0  # its message about a change goes out first

    total = t.Int(0, help="Length of the review queue").tag(sync=True)
    position = t.Int(0, help="Current index in the queue").tag(sync=True)
    reviewed = t.Int(0, help="Queue entries decided").tag(sync=True)
    has_suggestions = t.Bool(False).tag(sync=True)
    action = t.Unicode("", help="What accepting a finding does (relabel, remove, ...)").tag(
        sync=True
    )
    findings_op = t.Unicode("", help="Operation family of the findings reviewed").tag(sync=True)
    score_name = t.Unicode("", help="Name of the findings' score column").tag(sync=True)
    image_column = t.Unicode("").tag(sync=True)
    text_column = t.Unicode("").tag(sync=True)
    resolved_count = t.Int(
        0,
        help="Flagged findings resolved outside this editor (before it was made, or since in "
        "any view or by a cell): skipped",
    ).tag(sync=True)
    open_count = t.Int(
        0, help="Queue entries to review: not decided here and not resolved elsewhere"
    ).tag(sync=True)
    formats = t.Dict(
        help="One number format per numeric column shown (the score, the findings' other "
        "columns, the fields), chosen from the column's values as the grid chooses it, so a "
        "value reads the same in both"
    ).tag(sync=True)
    autofocus = t.Bool(
        True,
        help="Take the keyboard focus when first displayed (the view clears it once it did, "
        "so a reload or a second view never steals the focus)",
    ).tag(sync=True)

    def __init__(
        self,
        ds: Any,
        findings: Any = None,
        *,
        issues: Any = None,
        include_resolved: bool = False,
    ) -> None:
        found = as_findings(findings, issues)
        self._findings = found
        queue = np.asarray(ds.ids) if found is None else review_queue(found)
        skipped = 0
        #: entries left out because resolved when the editor was made, in review order:
        #: they rejoin the queue (at its end) when reopened (an undo, a revert)
        self._left_out = queue[:0]
        if found is not None and not include_resolved:
            state = resolution(ds, found)
            resolved = state[state != ""].index.to_numpy()
            open_ = ~np.isin(queue, resolved)
            skipped = int(len(queue) - open_.sum())
            self._left_out = queue[~open_]
            queue = queue[open_]
        self._queue = queue
        self._groups: dict[Any, list[int]] = {}
        group_col = None if found is None else found.roles.get("group")
        if group_col is not None:
            assert found is not None
            for sid, g in found.frame[group_col].items():
                if not is_null_scalar(g):
                    self._groups.setdefault(g, []).append(int(sid))  # type: ignore[call-overload]
        self._decisions: dict[int, _Decision] = {}
        self._undo_stack: list[int] = []
        self._state_lock = threading.RLock()
        self._skipped_at_start = skipped
        self._skip_resolved = found is not None and not include_resolved
        self._deciding: int | None = None  # the entry a decision is being made on
        super().__init__(
            ds,
            total=len(queue),
            resolved_count=skipped,
            open_count=len(queue),
            has_suggestions=found is not None and "suggestion" in found.roles,
            action="" if found is None else found.action,
            findings_op="" if found is None else found.op,
            score_name="" if found is None else found.roles["score"],
            image_column=str(getattr(ds, "image_column", None) or ""),
            text_column=str(getattr(ds, "text_column", None) or ""),
        )
        self.formats = self._number_formats()
        if found is not None:
            watch(ds, self)  # keep / mark reviewed in another view resolves findings too

    @property
    def findings(self) -> Any:
        """The Findings reviewed, or None."""
        return self._findings

    @property
    def queue(self) -> np.ndarray:
        """Sample ids in review order."""
        return self._queue

    @property
    def decisions(self) -> pd.DataFrame:
        """Decisions taken in this editor: one row per queue entry decided."""
        with self._state_lock:
            rows = [
                {
                    "index": i,
                    ID_COLUMN: d.sample_id,
                    "action": d.action,
                    "before": d.before,
                    "after": d.after,
                    "version": d.version_after,
                }
                for i, d in sorted(self._decisions.items())
            ]
        return pd.DataFrame(
            rows, columns=["index", ID_COLUMN, "action", "before", "after", "version"]
        )

    def _on_change(self, change: Any) -> None:
        """Tell the views which samples a change touched, before the new version: a view
        reloads the item it shows only when the change touched that sample (or its group),
        so a relabel made elsewhere costs no item round trip."""
        op = change.get("op") if isinstance(change, dict) else None
        version = change.get("version") if isinstance(change, dict) else None
        ids = change.get("ids") if isinstance(change, dict) else None
        dropped: list[int] = []
        if self._deciding is None:  # a decision here recounts once it is recorded
            # only an undo, a redo or a revert brings the data back to an older state
            dropped = self._follow_resolved(restoring=op in RESTORING_OPS or op is None)
        if not isinstance(version, int):
            return
        named = None if ids is None or len(ids) > CHANGED_MAX_IDS else [int(i) for i in ids]
        if named is not None and dropped:  # their item no longer shows the decision
            named = sorted(set(named) | set(dropped))
        self._tell(  # the front ends follow the new version from it
            {
                "type": "changed",
                "version": version,
                "op": str(op) if op is not None else None,
                "ids": named,
            }
        )

    def _reviews_changed(self) -> None:
        """A keep or mark-reviewed decision in any view changed the resolved state."""
        self._follow_resolved()

    # -- resolved elsewhere --------------------------------------------------------------
    def _elsewhere(self) -> np.ndarray:
        """Per queue entry: resolved outside this editor since it was made (a cell, another
        view) and not decided here. All False when resolved entries are not skipped."""
        queue = self._queue
        if not self._skip_resolved or not len(queue):
            return np.zeros(len(queue), dtype=bool)
        assert self._findings is not None
        state = resolution(self._ds, self._findings)
        out = np.isin(queue, state.index.to_numpy()[state.to_numpy(dtype=object) != ""])
        decided = list(self._decisions)
        if self._deciding is not None:
            decided.append(self._deciding)
        out[decided] = False
        return out

    def _next_open(self, start: int, elsewhere: np.ndarray, step: int = 1) -> int | None:
        """The first entry from ``start`` on (``step`` -1: back) not resolved elsewhere;
        None when there is none (forward: the end of the queue is ``total``)."""
        i = start
        while 0 <= i < len(elsewhere):
            if not elsewhere[i]:
                return i
            i += step
        return len(elsewhere) if step > 0 else None

    def _drop_undone(self) -> list[int]:
        """Forget the decisions no longer in effect: their change was undone or reverted
        (``ds.undo()``, a HistoryView's "Revert to here"), or their keep taken back. Returns
        their sample ids; when the queue was done, it goes back to the first one."""
        ds = self._ds
        in_effect = getattr(ds, "in_effect", None)
        if in_effect is None or not self._decisions:
            return []
        with self._state_lock:
            kept = None
            gone = []
            for index, d in self._decisions.items():
                if index == self._deciding:  # being decided or undone here
                    continue
                if not in_effect(d.anchor):
                    gone.append(index)
                elif d.action == "keep" and self._findings is not None:
                    if kept is None:
                        kept = kept_ids(ds, self._findings)
                    if d.sample_id not in kept:
                        gone.append(index)
            if not gone:
                return []
            ids = [self._decisions.pop(i).sample_id for i in gone]
            self._undo_stack = [i for i in self._undo_stack if i not in gone]
            with self._lock:
                self.reviewed = len(self._decisions)
                if self.position >= len(self._queue):
                    self.position = min(gone)
            return ids

    def _rejoin(self) -> None:
        """Entries left out as resolved when the editor was made that are open again (their
        fix undone or reverted) join the end of the queue."""
        left = self._left_out
        if not len(left):
            return
        assert self._findings is not None
        state = resolution(self._ds, self._findings)
        reopened = state.reindex(left, fill_value="").to_numpy(dtype=object) == ""
        if not reopened.any():
            return
        self._queue = np.concatenate([self._queue, left[reopened]])
        self._left_out = left[~reopened]
        self._skipped_at_start = len(self._left_out)
        with self._lock:
            self.total = len(self._queue)

    def _follow_resolved(self, restoring: bool = True) -> list[int]:
        """Count what is resolved elsewhere, and move on from the entry shown if it is.
        Decisions no longer in effect are forgotten first (unless not ``restoring``: a
        change that brings the data to no older state takes none out of effect); returns
        their sample ids."""
        dropped = self._drop_undone() if restoring else []
        if not self._skip_resolved:
            with self._state_lock, self._lock:
                self.open_count = len(self._queue) - len(self._decisions)
            return dropped
        with self._state_lock:
            self._rejoin()
            elsewhere = self._elsewhere()
            n_else = int(elsewhere.sum())
            decided = len(self._decisions) + (
                self._deciding is not None and self._deciding not in self._decisions
            )
            with self._lock:
                self.resolved_count = self._skipped_at_start + n_else
                self.open_count = max(0, len(self._queue) - decided - n_else)
                p = self.position
                if self._deciding is None and p < len(elsewhere) and elsewhere[p]:
                    nxt = self._next_open(p, elsewhere)
                    self.position = len(elsewhere) if nxt is None else nxt
        return dropped

    # -- helpers -----------------------------------------------------------------------
    def _number_formats(self) -> dict[str, dict[str, Any]]:
        """The format of each numeric column the editor shows (see
        :func:`~._counts.number_format`): the findings' columns from the findings frame,
        the fields from the dataset, the same values the grid chooses its formats from."""
        out: dict[str, dict[str, Any]] = {}
        found = self._findings
        if found is not None:
            frame = found.frame
            for c in frame.columns:
                col = frame[c]
                if col.dtype.kind in "iuf":
                    out[str(c)] = number_format(col.to_numpy(dtype=float, na_value=np.nan))
        ds = self._ds
        for c in self._field_columns():
            values = np.asarray(ds.column(c))
            if values.dtype.kind in "iuf":
                out.setdefault(str(c), number_format(values))
        return out

    def _field_columns(self) -> list[str]:
        """The feature columns shown beside the sample (at most :data:`EDITOR_FIELDS`)."""
        ds = self._ds
        skip = {self.image_column, self.text_column, ds.label}
        return [c for c in ds.feature_columns if c not in skip][:EDITOR_FIELDS]

    def _handlers(self) -> dict[str, Any]:
        return {
            "item": self._on_item,
            "decide": self._on_decide,
            "move": self._on_move,
            "undo": self._on_undo,
        }

    def _index(self, msg: dict[str, Any], name: str = "index") -> int:
        value = msg.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError(f"malformed request: {name!r} must be an integer, got {value!r}")
        return value

    def _current_label(self, sid: int) -> tuple[bool, Any]:
        """(present, label) of a sample in the current dataset."""
        try:
            pos = self._ds.positions([sid])
        except KeyError:
            return False, None
        return True, self._ds.column(self._ds.label, pos)[0]

    def _finding_value(self, sid: int, role: str) -> Any:
        """The value of ``sid``'s finding in the column playing ``role`` (None if none)."""
        findings = self._findings
        column = None if findings is None else findings.column(role)
        if column is None or sid not in column.index:
            return None
        value = column.at[sid]
        return None if is_null_scalar(value) else value

    # -- requests ----------------------------------------------------------------------
    def _on_item(self, msg: dict[str, Any]) -> dict[str, Any]:
        index = self._index(msg)
        total = len(self._queue)
        if index < 0:
            raise ProtocolError(f"malformed request: index must be >= 0, got {index}")
        base: dict[str, Any] = {"type": "item", "index": index, "total": total}
        if index >= total:
            return {**base, "version": int(self._ds.version), "done": True}
        sid = int(self._queue[index])
        for _ in range(5):
            version = int(self._ds.version)
            item = self._item(sid)
            if int(self._ds.version) == version:
                break
        with self._state_lock:
            decision = self._decisions.get(index)
        return {
            **base,
            **item,
            "version": version,
            "done": False,
            "decision": None
            if decision is None
            else {"action": decision.action, "label": json_scalar(decision.after)},
        }

    def _item(self, sid: int) -> dict[str, Any]:
        ds = self._ds
        present, given = self._current_label(sid)
        keeper = self._finding_value(sid, "keeper")
        item: dict[str, Any] = {
            "id": sid,
            "present": present,
            "given": json_scalar(given) if present else None,
            "suggested": json_scalar(self._finding_value(sid, "suggestion")),
            "score": json_scalar(self._finding_value(sid, "score")),
            "reason": json_scalar(self._finding_value(sid, "reason"), clamp=500),
            "flagged": bool(self._finding_value(sid, "flag") or False),
            "resolved": self._resolved_state(sid),
            "keeper": None if keeper is None else bool(keeper),
            "finding": self._finding_extras(sid),
            "group": self._group_of(sid),
            "image": None,
            "text": None,
            "fields": [],
        }
        if not present:
            return item
        row = ds.take([sid])
        if self.image_column and self.image_column in row.columns:
            item["image"] = image_data_url(row.iloc[0][self.image_column], EDITOR_IMAGE_SIZE)
        if self.text_column and self.text_column in row.columns:
            item["text"] = json_scalar(row.iloc[0][self.text_column], clamp=20_000)
        item["fields"] = [
            [str(c), json_scalar(row.iloc[0][c], clamp=200)]
            for c in self._field_columns()
            if c in row.columns
        ]
        return item

    def _resolved_state(self, sid: int) -> str | None:
        """The finding's resolved state now (see :mod:`._resolved`), None while open."""
        if self._findings is None:
            return None
        state = resolution(self._ds, self._findings)
        value = state.get(sid, "")
        return str(value) if value else None

    def _finding_extras(self, sid: int) -> list[list[Any]]:
        """``[name, value]`` of the finding's columns that play no role (e.g. label_quality)."""
        findings = self._findings
        if findings is None or sid not in findings.frame.index:
            return []
        roles = set(findings.roles.values())
        row = findings.frame.loc[sid]
        return [
            [str(c), json_scalar(row[c], clamp=200)]
            for c in findings.frame.columns
            if c not in roles
        ][:EDITOR_FIELDS]

    def _group_of(self, sid: int) -> dict[str, Any] | None:
        """The sample's group: its id and the other members (keeper first), to show beside it."""
        group = self._finding_value(sid, "group")
        if group is None:
            return None
        others = [i for i in self._groups.get(group, []) if i != sid]
        others.sort(key=lambda i: (not bool(self._finding_value(i, "keeper")), i))
        shown = others[:MAX_PEERS]
        ds = self._ds
        present = set(np.asarray(ds.ids)[np.isin(np.asarray(ds.ids), shown)].tolist())
        rows = ds.take([i for i in shown if i in present]) if present else None
        peers = []
        for i in shown:
            peer: dict[str, Any] = {
                "id": i,
                "keeper": bool(self._finding_value(i, "keeper")),
                "present": i in present,
                "label": None,
                "image": None,
                "text": None,
            }
            if rows is not None and i in present:
                r = rows.loc[i]
                peer["label"] = json_scalar(r[ds.label])
                if self.image_column:
                    peer["image"] = image_data_url(r[self.image_column], PEER_IMAGE_SIZE)
                if self.text_column:
                    peer["text"] = json_scalar(r[self.text_column], clamp=300)
            peers.append(peer)
        return {"id": json_scalar(group), "size": len(others) + 1, "peers": peers}

    def _on_decide(self, msg: dict[str, Any]) -> dict[str, Any]:
        with self._state_lock:
            index = self._index(msg)
            if not 0 <= index < len(self._queue):
                raise ProtocolError(
                    f"index {index} is outside the queue (0..{len(self._queue) - 1})"
                )
            sid = int(self._queue[index])
            if "id" in msg and msg["id"] != sid:
                raise ProtocolError(
                    f"queue entry {index} is sample {sid}, not {msg['id']!r}: reload the editor"
                )
            action = msg.get("action")
            if action not in DECISIONS:
                raise ProtocolError(
                    f"malformed request: unknown action {action!r} (one of {DECISIONS})"
                )
            present, current = self._current_label(sid)
            if not present:
                raise ProtocolError(f"sample {sid} is no longer in the dataset")
            self._deciding = index
            try:
                return self._decide(index, sid, action, current, msg)
            finally:
                self._deciding = None
                self._follow_resolved()

    def _decide(
        self, index: int, sid: int, action: str, current: Any, msg: dict[str, Any]
    ) -> dict[str, Any]:
        """Make the decision ``action`` on queue entry ``index`` (sample ``sid``)."""
        with self._state_lock:
            made_at = int(self._ds.version)
            version_after: int | None = None
            target: Any = current
            done = action
            if action == "accept":
                done, target = self._accept_target(sid)
                op, version_after = self._accept(
                    self._findings, [sid], reason="LabelEditor: accept suggestion"
                )
                if op == "remove":
                    done, target = "remove", None
            elif action == "remove":
                with self._widget_source():
                    version_after = int(self._ds.remove([sid], reason="LabelEditor: remove"))
                target = None
            elif action == "label":
                if "label" not in msg:
                    raise ProtocolError("malformed request: a label decision needs a label")
                target = self._match_class(msg["label"])
                if not same_label(target, current):
                    with self._widget_source():
                        version_after = int(
                            self._ds.relabel([sid], [target], reason="LabelEditor: relabel")
                        )
            if action == "keep" and self._findings is not None:
                with self._widget_source():
                    set_kept(self._ds, self._findings, [sid])
            self._decisions[index] = _Decision(done, sid, current, target, version_after, made_at)
            if index in self._undo_stack:
                self._undo_stack.remove(index)
            self._undo_stack.append(index)
            nxt = self._next_open(index + 1, self._elsewhere())
            with self._lock:
                self.reviewed = len(self._decisions)
                self.position = min(len(self._queue) if nxt is None else nxt, len(self._queue))
            return {
                "type": "ok",
                "op": done,
                "id": sid,
                "version": int(self._ds.version),
                "position": self.position,
                "reviewed": self.reviewed,
                "changed": version_after is not None,
            }

    def _accept_target(self, sid: int) -> tuple[str, Any]:
        """What accepting ``sid``'s finding will do: ``("accept", label)`` or ``("remove", None)``."""
        findings = self._findings
        if findings is None:
            raise ProtocolError(
                f"sample {sid} has no suggested label (no findings were given): pick a class"
            )
        if findings.action == "remove":
            return "remove", None
        suggested = self._finding_value(sid, "suggestion")
        if suggested is None:
            raise ProtocolError(f"sample {sid} has no suggested label: pick a class")
        return "accept", self._match_class(json_scalar(suggested))

    def _on_move(self, msg: dict[str, Any]) -> dict[str, Any]:
        to = self._index(msg, "to")
        with self._state_lock:
            to = max(0, min(to, len(self._queue)))
            if to != self.position:  # pass over the entries resolved elsewhere
                back = to < self.position
                found = self._next_open(to, self._elsewhere(), -1 if back else 1)
                to = self.position if found is None else found
        with self._state_lock, self._lock:
            self.position = to
            return {
                "type": "ok",
                "op": "move",
                "position": self.position,
                "version": int(self._ds.version),
            }

    def _on_undo(self, msg: dict[str, Any]) -> dict[str, Any]:
        with self._state_lock:
            if not self._undo_stack:
                raise ProtocolError("nothing to undo in this editor")
            index = self._undo_stack[-1]
            decision = self._decisions[index]
            if decision.version_after is not None:
                now = int(self._ds.version)
                if now != decision.version_after:
                    raise ProtocolError(
                        f"the dataset changed after that decision (v{decision.version_after} -> "
                        f"v{now}): undo it from a cell with ds.undo()"
                    )
            self._deciding = index  # the undo of this decision is not a change elsewhere
            try:
                if decision.version_after is not None:
                    with self._widget_source():
                        self._ds.undo()
                if decision.action == "keep" and self._findings is not None:
                    with self._widget_source():
                        set_kept(self._ds, self._findings, [decision.sample_id], kept=False)
            finally:
                self._deciding = None
            self._undo_stack.pop()
            del self._decisions[index]
            with self._lock:
                self.reviewed = len(self._decisions)
                self.position = index
            self._follow_resolved()
            return {
                "type": "ok",
                "op": "undo",
                "id": decision.sample_id,
                "version": int(self._ds.version),
                "position": index,
                "reviewed": self.reviewed,
            }
