"""Carrying a recorded change over to new data by sample id (one ``CarryOver`` per
replay): an operation re-run by its rule, a selection carried to its unchanged samples, a
person's decision carried where the sample is unchanged; everything else is listed for
review with its reason. ``replay_recipe`` (``_recipe.py``) walks the history and hands each
recorded change to it."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..core import Dataset, Findings, History, _codec
from ..core._recipe_steps import RecordedChange, StateWalker, row_hashes
from ._base import Operation, rebuild
from ._params import ParamError
from ._recipe_result import short as _short

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Change

__all__ = ["CarryOver"]


# ---------------------------------------------------------------------------- rows
def _rows_frame(enc: dict[str, list[Any]], ids: list[int], like: pd.DataFrame) -> pd.DataFrame:
    """Recorded (encoded) rows as a frame with the dtypes of ``like``."""
    data = {}
    for c in like.columns:
        s = pd.Series(_codec.decode_list(enc[c]), dtype=object)
        try:
            s = s.astype(like.dtypes[c])
        except (TypeError, ValueError):
            pass
        data[c] = s
    out = pd.DataFrame(data, columns=list(like.columns))
    out.index = pd.Index(ids, dtype=np.int64, name=like.index.name)
    return out


def _same_value(x: Any, y: Any) -> bool:
    if _codec.is_missing(x) and _codec.is_missing(y):
        return True
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return bool(
            isinstance(x, np.ndarray)
            and isinstance(y, np.ndarray)
            and x.shape == y.shape
            and np.array_equal(x, y)
        )
    try:
        return bool(x == y)
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------- the replay
class CarryOver:
    """The state of one replay: what was applied, skipped and listed for review."""

    def __init__(
        self,
        h: History,
        ds: Dataset,
        old: StateWalker | None,
        progress: bool,
    ) -> None:
        self.h = h
        self.ds = ds
        self.old = old
        self.progress = progress
        self.label = ds.label
        self.id_map: dict[int, int] = {}  # ids of rows a person added -> their new ids
        self.applied: dict[int, dict[str, Any]] = {}
        self.skipped: dict[int, dict[str, Any]] = {}
        self.review: list[dict[str, Any]] = []
        self.findings: dict[int, Findings] = {}  # the rules' findings on the new data

    # -- helpers ----------------------------------------------------------------------
    def _present(self, ids: list[int]) -> set[int]:
        if not ids:
            return set()
        have = np.asarray(self.ds.ids)
        return set(np.asarray(ids, dtype=np.int64)[np.isin(ids, have)].tolist())

    def _new_rows(self, ids: list[int]) -> pd.DataFrame:
        return self.ds.take(ids) if ids else self.ds.df.iloc[:0]

    def _old_rows(self, ids: list[int]) -> pd.DataFrame | None:
        if self.old is None:
            return None
        return self.old.rows(ids)

    def _flag(
        self, seq: int, op: str, sid: int, column: str | None, old: Any, new: Any, why: str
    ) -> None:
        self.review.append(
            {
                "seq": seq,
                "op": op,
                "sample_id": sid,
                "column": column,
                "old": old,
                "new": new,
                "reason": why,
            }
        )

    # -- operations -------------------------------------------------------------------
    def operation(self, seq: int, op: str, params: dict[str, Any]) -> None:
        try:
            operation: Operation = rebuild(op, params)
            if hasattr(operation, "progress"):
                operation.progress = self.progress
            change: Change = operation.replay(self.ds, params)
        except ParamError as e:  # a malformed or hostile record: stop, naming the change
            raise ParamError(f"recorded change v{seq} ({op}): {e}") from e
        except Exception as e:  # the recorded operation cannot run on these data
            self.skipped[seq] = {"op": op, "reason": f"could not re-run {op}: {e}"}
            return
        was = (params.get("findings") or {}).get("digest")
        now = (change.params.get("findings") or {}).get("digest")
        same = (
            ""
            if was is None
            else (
                "; the same findings as recorded"
                if was == now
                else "; the findings differ from the recorded ones (other data or model)"
            )
        )
        if change.empty:
            self.applied[seq] = {
                "op": op,
                "kind": "operation",
                "version": None,
                "rows": 0,
                "carried": 0,
                "already": 0,
                "review": 0,
                "detail": "re-run: nothing to change on the new data" + same,
            }
            return
        change = dataclasses.replace(change, params={**change.params, "recipe": {"seq": seq}})
        version = self.ds.apply(change)
        counts = ", ".join(f"{k} {v}" for k, v in change.counts().items())
        self.applied[seq] = {
            "op": op,
            "kind": "operation",
            "version": int(version),
            "rows": change.n_rows,
            "carried": 0,
            "already": 0,
            "review": 0,
            "detail": f"re-run with the recorded parameters: {counts}{same}",
        }

    # -- decisions --------------------------------------------------------------------
    def decision(
        self,
        rec: RecordedChange,
        *,
        allowed: set[int] | None = None,
        kind: str = "decision",
        flagged_before: int = 0,
        note: str = "",
    ) -> None:
        """Carry a recorded change's deltas over by sample id (see the module docstring).

        ``allowed`` limits it to those (new) sample ids: deltas on other samples, and rows
        made from them, are left out (a selection's samples that did not match are already
        listed for review, ``flagged_before`` of them).
        """
        seq, op, deltas = rec.seq, rec.op, rec.deltas
        plan = self.ds.plan(op, {**rec.params, "recipe": {"seq": seq}})
        carried, already, flagged = 0, 0, flagged_before
        for whole in deltas:
            t = whole["t"]
            d = whole
            if allowed is not None and t in ("set", "del", "ins"):
                cut = _restrict(whole, allowed, self.id_map)
                if cut is None:
                    continue
                d = cut
            if t == "set":
                c, a, f = self._set(seq, op, plan, d)
            elif t == "del":
                c, a, f = self._del(seq, op, plan, d)
            elif t == "ins":
                c, a, f = self._ins(plan, d), 0, 0
            elif t == "dt":
                continue  # re-made by the plan itself when rows without a label are added
            else:  # pragma: no cover - the history knows only these
                raise ValueError(f"unknown delta type {t!r}")
            carried, already, flagged = carried + c, already + a, flagged + f
        change = plan.change()
        version = None if change.empty else int(self.ds.apply(change))
        if carried == 0 and already == 0 and flagged:
            return  # every row of it is in needs_review
        detail = f"{carried} carried over by sample id"
        if already:
            detail += f", {already} already so in the new data"
        if flagged:
            detail += f", {flagged} for review"
        self.applied[seq] = {
            "op": op,
            "kind": kind,
            "version": version,
            "rows": change.n_rows,
            "carried": carried,
            "already": already,
            "review": flagged,
            "detail": detail + note,
        }

    # -- selections -------------------------------------------------------------------
    def selection(self, rec: RecordedChange) -> None:
        """An operation that acted on chosen samples: re-run its rule's ``find`` (recorded
        in the new history, kept in ``findings``), then carry the selection over by sample
        id: a selected sample with the same id and content gets what the change did to it;
        one that changed or is gone is listed for review. Never another sample."""
        seq, op, params = rec.seq, rec.op, rec.params
        sel = _selection(params.get("selection"), op, seq)
        note = ""
        try:
            operation = rebuild(op, params)
        except ParamError as e:
            raise ParamError(f"recorded change v{seq} ({op}): {e}") from None
        if operation.needs_findings:
            if hasattr(operation, "progress"):
                operation.progress = self.progress
            try:
                found = operation.find(self.ds)
            except Exception as e:  # the rule cannot run here; the selection still can
                note = f"; the rule's find could not run on the new data ({e})"
            else:
                self.findings[seq] = found
                flagged = set(np.asarray(found.flagged.ids, dtype=np.int64).tolist())
                still = sum(1 for i in sel["ids"] if self.id_map.get(i, i) in flagged)
                note = f"; the rule flags {still} of the {len(sel['ids'])} selected on the new data"
        effect = _effects(rec.deltas)
        mapped = [self.id_map.get(i, i) for i in sel["ids"]]
        present = self._present(mapped)
        hashes = row_hashes(self._new_rows([m for m in mapped if m in present]), self.label)
        allowed: set[int] = set()
        flagged_n = 0
        for o_id, i, rest, lab in zip(sel["ids"], mapped, sel["rest"], sel["label"], strict=True):
            kind, column, old, new = effect.get(o_id, ("other", None, "selected", "acted on"))
            why = None
            if i not in present:
                why = "not in the new data"
            elif hashes[i][0] != rest:
                why = "the sample changed since it was selected (content differs)"
            elif hashes[i][1] != lab and kind != "relabel":
                # a relabel compares the label itself (as decided on, or already so); any
                # other action needs the label as it was when the sample was selected
                why = "the sample's label changed since it was selected"
            if why is None:
                allowed.add(i)
            else:
                self._flag(seq, op, o_id if i not in present else i, column, old, new, why)
                flagged_n += 1
        self.decision(rec, allowed=allowed, kind="selection", flagged_before=flagged_n, note=note)

    def _set(self, seq: int, op: str, plan: Any, d: dict[str, Any]) -> tuple[int, int, int]:
        column = d.get("c")
        col = column or self.label
        old_ids = [int(i) for i in d["i"]]
        ids = [self.id_map.get(i, i) for i in old_ids]
        olds = _codec.decode_list(d["o"])
        news = _codec.decode_list(d["n"])
        present = self._present(ids)
        new_rows = self._new_rows([i for i in ids if i in present])
        old_rows = self._old_rows([o for o, i in zip(old_ids, ids, strict=True) if i in present])
        same_rest: dict[int, bool] = {}
        if old_rows is not None and len(new_rows):
            # a relabel: the other columns must be as decided on; an update: every column
            # but the updated one (the label included)
            keep = [c for c in new_rows.columns if c != column]
            hn = row_hashes(new_rows[keep], self.label)
            ho = row_hashes(old_rows[keep], self.label)
            for o, i in zip(old_ids, ids, strict=True):
                if i in present:
                    same_rest[i] = hn[i][0] == ho[o][0] and (column is None or hn[i][1] == ho[o][1])
        todo_ids: list[int] = []
        todo_vals: list[Any] = []
        todo_origins: list[Any] = []
        # a label's origin is part of the decision: a person confirming a pseudo-label with
        # the same value takes the "pseudo" mark away, and so must the replay
        recorded_origin = d.get("g") or [None] * len(old_ids)
        live_origin = self.ds.origins["label_origin"] if column is None else None
        carried = already = flagged = 0
        for k, (o_id, i, old, new) in enumerate(zip(old_ids, ids, olds, news, strict=True)):
            show = None if column is None else column
            if i not in present:
                self._flag(seq, op, o_id, show, old, new, "not in the new data")
                flagged += 1
                continue
            if not same_rest.get(i, True):
                self._flag(
                    seq,
                    op,
                    i,
                    show,
                    old,
                    new,
                    "the sample changed since the decision (content differs)",
                )
                flagged += 1
                continue
            current = new_rows.at[i, col]
            origin_now = (
                live_origin.get(i) if live_origin is not None and i in live_origin.index else None
            )
            if _same_value(current, new) and (
                live_origin is None or origin_now == recorded_origin[k]
            ):
                already += 1
            elif _same_value(current, old) or _same_value(current, new):
                todo_ids.append(i)
                todo_vals.append(new)
                todo_origins.append(recorded_origin[k])
                carried += 1
            else:
                self._flag(
                    seq,
                    op,
                    i,
                    show,
                    old,
                    new,
                    f"{col} is {_short(current)} in the new data, not the {_short(old)} decided on",
                )
                flagged += 1
        if todo_ids and column is None:
            # a label taken back (unlabel): the row returns to the pool
            back = [j for j, v in enumerate(todo_vals) if _codec.is_missing(v)]
            if back:
                plan.unlabel([todo_ids[j] for j in back])
                others = [j for j in range(len(todo_ids)) if j not in set(back)]
                todo_ids = [todo_ids[j] for j in others]
                todo_vals = [todo_vals[j] for j in others]
                todo_origins = [todo_origins[j] for j in others]
        if todo_ids:
            if column is None:
                for origin in dict.fromkeys(todo_origins):
                    pick = [j for j, g in enumerate(todo_origins) if g == origin]
                    plan.relabel(
                        [todo_ids[j] for j in pick], [todo_vals[j] for j in pick], origin=origin
                    )
            else:
                plan.update(todo_ids, column, todo_vals)
        return carried, already, flagged

    def _del(self, seq: int, op: str, plan: Any, d: dict[str, Any]) -> tuple[int, int, int]:
        old_ids = [int(i) for i in d["i"]]
        ids = [self.id_map.get(i, i) for i in old_ids]
        present = self._present(ids)
        new_rows = self._new_rows([i for i in ids if i in present])
        recorded = _rows_frame(d["r"], old_ids, self.ds.df.iloc[:0])
        hn = row_hashes(new_rows, self.label)
        ho = row_hashes(recorded, self.label)
        todo: list[int] = []
        flagged = 0
        for o_id, i in zip(old_ids, ids, strict=True):
            if i not in present:
                self._flag(seq, op, o_id, None, "present", "removed", "not in the new data")
                flagged += 1
            elif hn[i] != ho[o_id]:
                self._flag(
                    seq,
                    op,
                    i,
                    None,
                    "present",
                    "removed",
                    "the sample changed since it was removed (content differs)",
                )
                flagged += 1
            else:
                todo.append(i)
        if todo:
            plan.remove(todo)
        return len(todo), 0, flagged

    def _ins(self, plan: Any, d: dict[str, Any]) -> int:
        old_ids = [int(i) for i in d["i"]]
        rows = _rows_frame(d["r"], old_ids, self.ds.df.iloc[:0]).reset_index(drop=True)
        g = d.get("g")
        origin = g[0] if g and len(set(g)) == 1 else None
        src = d.get("s")
        sources = None
        if src is not None:
            mapped = [self.id_map.get(int(s), int(s)) for s in src]
            if set(mapped) <= self._present(mapped):
                sources = mapped
        lg = d.get("lg")
        label_origin = next((v for v in lg if v is not None), None) if lg else None
        new_ids = plan.add(rows, origin=origin, source_ids=sources, label_origin=label_origin)
        for o, n in zip(old_ids, np.asarray(new_ids).tolist(), strict=True):
            self.id_map[o] = int(n)
        return len(old_ids)


def _selection(record: Any, op: str, seq: int) -> dict[str, list[int]]:
    """A recorded selection, checked: equal-length lists of ints (ParamError otherwise)."""
    keys = ("ids", "rest", "label")
    if not isinstance(record, dict) or not all(isinstance(record.get(k), list) for k in keys):
        raise ParamError(
            f"recorded change v{seq} ({op}): its selection is malformed (it needs lists "
            f"{list(keys)}); the history file was edited or is damaged"
        )
    lists = [record[k] for k in keys]
    if len({len(x) for x in lists}) != 1 or not all(
        isinstance(v, int) and not isinstance(v, bool) for x in lists for v in x
    ):
        raise ParamError(
            f"recorded change v{seq} ({op}): its selection's ids and hashes must be integer "
            "lists of one length; the history file was edited or is damaged"
        )
    return {k: record[k] for k in keys}


def _effects(deltas: list[dict[str, Any]]) -> dict[int, tuple[str, str | None, Any, Any]]:
    """Per sample id a change touched: (kind, column, old, new) for the review list."""
    out: dict[int, tuple[str, str | None, Any, Any]] = {}
    made: dict[int, int] = {}
    for d in deltas:
        if d["t"] == "set":
            column = d.get("c")
            olds, news = _codec.decode_list(d["o"]), _codec.decode_list(d["n"])
            for i, o, n in zip(d["i"], olds, news, strict=True):
                out[int(i)] = ("relabel" if column is None else "update", column, o, n)
        elif d["t"] == "del":
            for i in d["i"]:
                out[int(i)] = ("remove", None, "present", "removed")
        elif d["t"] == "ins":
            for s in d.get("s") or []:
                made[int(s)] = made.get(int(s), 0) + 1
    for s, n in made.items():
        out.setdefault(s, ("source", None, "selected", f"{n} row(s) made from it"))
    return out


def _restrict(
    d: dict[str, Any], allowed: set[int], id_map: dict[int, int]
) -> dict[str, Any] | None:
    """Delta ``d`` cut down to the samples in ``allowed`` (new ids): a set or del delta to
    those samples, an ins delta to the rows made from them. None when nothing is left."""
    if d["t"] == "ins":
        src = d.get("s")
        if src is None:
            return d
        keep = [id_map.get(int(x), int(x)) in allowed for x in src]
    else:
        keep = [id_map.get(int(x), int(x)) in allowed for x in d["i"]]
    if all(keep):
        return d
    if not any(keep):
        return None
    n = len(keep)

    def cut(v: Any) -> Any:
        return [x for x, k in zip(v, keep, strict=True) if k]

    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, list) and len(v) == n:
            out[k] = cut(v)
        elif k == "r" and isinstance(v, dict):
            out[k] = {c: cut(col) for c, col in v.items()}
        else:
            out[k] = v
    return out
