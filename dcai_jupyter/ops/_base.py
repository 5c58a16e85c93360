"""``Operation``: the object every data-operation family is, and the registry of them.

scikit-learn shaped: options are keyword-only ``__init__`` parameters stored as attributes
of the same name (``get_params``), learned state ends in ``_`` (``findings_``), and the
parameters are JSON-serializable so the history can store them and recipe replay can
rebuild the operation from its recorded name.

A family implements ``_find(ds) -> Findings`` (pure: it changes nothing) and/or
``_plan(ds, findings, plan, **options)`` (adds steps to a ``ChangePlan``). ``find``
records an event; ``plan`` returns one ``Change``; ``apply`` records it.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from ..core import Change, ChangePlan, Dataset, Findings
from ..core._interrupt import deferred_interrupts
from ..core._recipe_steps import row_hashes
from ..core._validate import resolve_ids
from ._params import ParamError, from_json, from_json_params, to_json

OpT = TypeVar("OpT", bound=type["Operation"])

#: from this many rows on, ``apply_added`` shows a bar naming its two stages
STAGE_BAR_ROWS = 2000

_REGISTRY: dict[str, type[Operation]] = {}


def register(cls: OpT) -> OpT:
    """Class decorator: make ``cls`` replayable under its ``change_op`` (and ``name``)."""
    for key in {cls.change_op, cls.name}:
        if not key:
            continue
        other = _REGISTRY.get(key)
        if other is not None and other is not cls and other.__qualname__ != cls.__qualname__:
            raise ValueError(f"operation name {key!r} is taken by {other.__qualname__}")
        _REGISTRY[key] = cls
    return cls


def registry() -> dict[str, type[Operation]]:
    """Every operation class, one entry each (a copy): by the op name its applied change is
    recorded under, or by its family name where it only finds (``suggest_samples``...)."""
    _load_builtin()
    return {cls.change_op or cls.name: cls for cls in dict.fromkeys(_REGISTRY.values())}


def get_operation(op: str) -> type[Operation]:
    """The operation class recorded as ``op`` (KeyError naming the known ones)."""
    _load_builtin()
    try:
        return _REGISTRY[op]
    except KeyError:
        raise KeyError(
            f"no operation is registered as {op!r}; known: {sorted(registry())}"
        ) from None


def _load_builtin() -> None:
    # The families register themselves when their module is imported.
    importlib.import_module("dcai_jupyter.ops")


class Operation:
    """Base class of the data operations (see the module docstring)."""

    #: family name: ``Findings.op`` and the find event ``find_<name>``
    name: ClassVar[str] = ""
    #: the op name its applied change is recorded under (the registry key)
    change_op: ClassVar[str] = ""
    #: what accepting a finding does (``relabel``, ``remove``, ``label``, ``review``)
    action: ClassVar[str] = "review"
    #: whether ``plan`` needs findings (recipe replay runs ``find`` first)
    needs_findings: ClassVar[bool] = True
    #: the selection options ``plan`` takes: a subset of ``("ids", "groups", "top")``
    selectors: ClassVar[tuple[str, ...]] = ()
    #: constructor parameters that name samples (a selection, not a rule), e.g. ``ids``
    selection_params: ClassVar[tuple[str, ...]] = ()
    #: said when a call passes a selection option the family does not take
    selector_hint: ClassVar[str] = ""
    #: whether the change adds rows (``apply_added`` returns their ids)
    adds_rows: ClassVar[bool] = False

    findings_: Findings

    # ------------------------------------------------------------------ params
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        names = []
        for p in sig.parameters.values():
            if p.name == "self":
                continue
            if p.kind is not inspect.Parameter.KEYWORD_ONLY:
                raise TypeError(
                    f"{cls.__name__}.__init__ must take keyword-only parameters; {p.name!r} is not"
                )
            names.append(p.name)
        return names

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, by name."""
        return {n: getattr(self, n) for n in self._param_names()}

    def set_params(self, **params: Any) -> Operation:
        valid = set(self._param_names())
        for k, v in params.items():
            if k not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no parameter {k!r}; it has {sorted(valid)}"
                )
            setattr(self, k, v)
        return self

    def json_params(self) -> dict[str, Any]:
        """The parameters in their JSON form (estimators and callables by qualified name)."""
        return {k: to_json(v) for k, v in self.get_params().items()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Operation:
        """Rebuild an operation from ``json_params()`` (as recorded in the history).

        Raises
        ------
        ParamError
            ``params`` is not a dict, names a parameter the operation does not have, or
            holds a value that cannot be rebuilt (see :mod:`dcai_jupyter.ops._params`).
        """
        owner = cls.change_op or cls.name or cls.__name__
        kwargs = from_json_params(params, cls._param_names(), owner)
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as e:
            raise ParamError(f"{owner}: cannot rebuild it from the recorded parameters: {e}") from e

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self"
        }
        shown = []
        for k, v in self.get_params().items():
            try:
                same = bool(v == defaults.get(k))
            except Exception:
                same = False
            if not same:
                shown.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # ------------------------------------------------------------------ find / plan / apply
    def _find(self, ds: Dataset) -> Findings:  # pragma: no cover - per family
        raise NotImplementedError(f"{type(self).__name__} has no find step")

    def _plan(
        self, ds: Dataset, findings: Findings | None, plan: ChangePlan, select: Selection
    ) -> dict[str, Any]:  # pragma: no cover - per family
        """Add the change's steps to ``plan``; return extra params to record (counts...).

        ``select`` holds the selection options the call passed (only those named in
        ``selectors``; the others are None).
        """
        raise NotImplementedError(f"{type(self).__name__} has no apply step")

    def _coerce_findings(self, findings: Any) -> Findings:
        """``findings`` as this family's Findings (a family may accept more, e.g. a frame)."""
        if not isinstance(findings, Findings):
            raise TypeError(
                f"findings must be the Findings from find(); got {type(findings).__name__}"
            )
        return findings

    def find(self, ds: Dataset) -> Findings:
        """Compute the findings on ``ds`` (nothing changes) and record a ``find_<name>`` event."""
        findings = self._find(ds).as_found()
        with deferred_interrupts():  # the stop button: before the event or after it, whole
            ds.history.record_event(
                f"find_{self.name}", self.json_params(), self._summary(ds, findings)
            )
        self.findings_ = findings
        return findings

    def _summary(self, ds: Dataset, findings: Findings) -> dict[str, Any]:
        """What the find event records: ``findings.summary()``, plus what a family adds
        (e.g. the feature columns a model used)."""
        return findings.summary()

    def plan(
        self,
        ds: Dataset,
        findings: Findings | pd.DataFrame | None = None,
        *,
        ids: Any = None,
        groups: Sequence[int] | None = None,
        top: int | None = None,
        reason: str | None = None,
    ) -> Change:
        """The one ``Change`` that acting on ``findings`` makes (nothing is recorded yet).

        Parameters
        ----------
        ds
            The dataset to act on.
        findings
            From :meth:`find` (default: the last ones this object found), or a subset of
            them; families that need none ignore it. Label issues also take a frame with
            a ``suggested_label`` column.
        ids, groups, top
            The selection options a family takes (``selectors``): sample ids (a list,
            array, Index, Series or boolean mask), duplicate group numbers, or the ``top``
            most suspicious flagged findings.
        reason
            Recorded with the change.

        Notes
        -----
        A change acting on a selection (any of ``ids``/``groups``/``top``, a selection
        among the constructor parameters, or findings that are a subset of what the find
        step flagged) records it apart from the rule: ``params["selection"]`` holds the
        sample ids it acted on with a content hash each. Recipe replay re-runs the rule's
        ``find`` and carries the selection over by sample id, never onto other samples.
        """
        if not self.change_op:
            raise TypeError(
                f"{type(self).__name__} only finds: it records no change. Act on its findings "
                "with ds.relabel, ds.remove or the LabelEditor"
            )
        given = {k: v for k, v in (("ids", ids), ("groups", groups), ("top", top)) if v is not None}
        unknown = sorted(set(given) - set(self.selectors))
        if unknown:
            takes = ", ".join(f"{k}=" for k in self.selectors) or "no selection option"
            hint = f": {self.selector_hint}" if self.selector_hint else ""
            raise TypeError(f"{type(self).__name__} takes {takes}; got {', '.join(unknown)}{hint}")
        select = Selection(
            ids=None if ids is None else resolve_ids(ids, ds.ids),
            groups=None if groups is None else check_groups(groups),
            top=check_top(top),
        )
        if findings is None and self.needs_findings:
            findings = getattr(self, "findings_", None)
            if findings is None:
                raise ValueError(
                    f"{type(self).__name__}.plan needs findings: call find(ds) first or pass them"
                )
        found = None if findings is None else self._coerce_findings(findings)
        params: dict[str, Any] = {
            "operation": self.json_params(),
            "options": select.json(),
        }
        if found is not None:
            params["findings"] = {
                "op": found.op,
                "version": found.version,
                "digest": found.digest(),
            }
        if reason is not None:
            params["reason"] = str(reason)
        plan = ds.plan(self.change_op, params)
        extra = self._plan(ds, found, plan, select)
        plan.params.update(extra or {})
        change = plan.change()
        chosen = list(given) + [p for p in self.selection_params if getattr(self, p) is not None]
        if found is not None and self.needs_findings and not found.by_rule:
            chosen.append("findings")
        if chosen:
            record = selection_record(ds, change, chosen)
            change = dataclasses.replace(change, params={**change.params, "selection": record})
        return change

    def apply(
        self,
        ds: Dataset,
        findings: Findings | pd.DataFrame | None = None,
        *,
        ids: Any = None,
        groups: Sequence[int] | None = None,
        top: int | None = None,
        reason: str | None = None,
    ) -> int:
        """``ds.apply(self.plan(ds, findings, ...))``: one recorded change; the new version."""
        return ds.apply(self.plan(ds, findings, ids=ids, groups=groups, top=top, reason=reason))

    def apply_added(
        self,
        ds: Dataset,
        *,
        ids: Any = None,
        groups: Sequence[int] | None = None,
        top: int | None = None,
        reason: str | None = None,
    ) -> np.ndarray:
        """``apply`` for an operation that adds rows (``adds_rows``), finding first where it
        has a find step; returns the new rows' sample ids.

        With ``progress`` on and at least ``STAGE_BAR_ROWS`` rows, a bar names the stage
        (making the rows, then recording them: both take seconds on large data).
        """
        from ._progress import progress_bar

        findings = self.find(ds) if self.needs_findings else None
        enabled = bool(getattr(self, "progress", False)) and len(ds) >= STAGE_BAR_ROWS
        with progress_bar(total=2, desc=self.name, disable=not enabled) as bar:
            bar.set_postfix_str("making rows")
            change = self.plan(ds, findings, ids=ids, groups=groups, top=top, reason=reason)
            bar.update(1)
            bar.set_postfix_str(f"recording {sum(change.counts().values())} rows")
            ds.apply(change)
            bar.update(1)
        return added_ids(change)

    @classmethod
    def for_findings(cls, findings: Any) -> Operation:
        """The operation that made ``findings``, rebuilt from the parameters they record."""
        if not isinstance(findings, Findings):
            raise TypeError(
                f"pass the Findings a find step returned; got {type(findings).__name__}"
            )
        if findings.op != cls.name:
            raise TypeError(f"these are {findings.op!r} findings, not {cls.name!r} findings")
        return cls.from_params(dict(findings.params))

    def replay(self, ds: Dataset, recorded: dict[str, Any]) -> Change:
        """Re-plan a recorded change on (new) data ``ds`` by its rule: find again, then plan
        with the recorded options. ``recorded`` is the change's params as the history holds
        them. A change that acted on a selection is not re-planned this way: recipe replay
        carries its selection over by sample id (see ``ops._recipe``)."""
        if recorded.get("selection"):
            raise ValueError(
                "this change acted on a selection of samples; recipe replay carries it over "
                "by sample id instead of re-running the rule"
            )
        options = recorded.get("options") or {}
        if not isinstance(options, dict):
            raise ParamError(f"the recorded options of {self.change_op!r} are not a mapping")
        unknown = sorted(set(options) - set(self.selectors))
        if unknown:
            raise ParamError(
                f"{self.change_op!r} was recorded with options {unknown} it does not take"
            )
        findings = self.find(ds) if self.needs_findings else None
        return self.plan(
            ds,
            findings,
            **{k: from_json(v) for k, v in options.items()},
            reason=recorded.get("reason"),
        )


@dataclass(frozen=True)
class Selection:
    """The samples a call chose, apart from the operation's rule.

    Attributes
    ----------
    ids
        Sample ids (``ids=``), checked to be in the dataset.
    groups
        Group numbers (``groups=``, duplicates).
    top
        The ``top`` most suspicious flagged findings.
    """

    ids: np.ndarray | None = None
    groups: list[int] | None = None
    top: int | None = None

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.ids is not None:
            out["ids"] = [int(i) for i in self.ids.tolist()]
        if self.groups is not None:
            out["groups"] = list(self.groups)
        if self.top is not None:
            out["top"] = self.top
        return out


def added_ids(change: Change) -> np.ndarray:
    """Sample ids of the rows a change inserts, in order."""
    return np.asarray([i for d in change.deltas if d["t"] == "ins" for i in d["i"]], dtype=np.int64)


def check_top(top: Any) -> int | None:
    """``top`` as an int (or None); a clear error for anything else."""
    if top is None:
        return None
    if isinstance(top, bool) or not isinstance(top, numbers.Integral) or top < 0:
        raise ValueError(f"top must be a non-negative integer or None; got {top!r}")
    return int(top)


def check_groups(groups: Any) -> list[int]:
    """``groups`` as a sorted list of group numbers; a clear error for anything else."""
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__iter__"):
        raise ValueError(f"groups must be a list of group numbers (ints); got {groups!r}")
    out = list(groups)
    if not all(isinstance(g, numbers.Integral) and not isinstance(g, bool) for g in out):
        raise ValueError(f"groups must be a list of group numbers (ints); got {groups!r}")
    return sorted({int(g) for g in out})


def selection_record(ds: Dataset, change: Change, chosen: Sequence[str]) -> dict[str, Any]:
    """What a change acted on, as recipe replay carries it: ids with a content hash each.

    The ids are the existing samples the change touched (relabeled, updated, removed, or
    made new rows from), in delta order; ``rest``/``label`` are their content hashes
    before the change (the non-label columns, the label), as ``row_hashes`` computes them.
    """
    acted: dict[int, None] = {}
    for d in change.deltas:
        if d["t"] in ("set", "del"):
            acted.update((int(i), None) for i in d["i"])
        elif d["t"] == "ins":
            acted.update((int(i), None) for i in d.get("s") or [])
    ids = list(acted)
    hashes = row_hashes(ds.take(ids), ds.label) if ids else {}
    return {
        "by": sorted(set(chosen)),
        "ids": ids,
        "rest": [hashes[i][0] for i in ids],
        "label": [hashes[i][1] for i in ids],
    }


def rebuild(op: str, recorded: dict[str, Any]) -> Operation:
    """The operation a recorded change came from, rebuilt from its op name and params."""
    cls = get_operation(op)
    if not isinstance(recorded, dict):
        raise ParamError(
            f"{op}: recorded params must be a JSON object; got {type(recorded).__name__}"
        )
    params = recorded.get("operation")
    return cls.from_params({} if params is None else params)


Factory = Callable[..., Operation]

__all__ = [
    "Operation",
    "Selection",
    "added_ids",
    "check_groups",
    "check_top",
    "get_operation",
    "rebuild",
    "register",
    "registry",
    "selection_record",
]
