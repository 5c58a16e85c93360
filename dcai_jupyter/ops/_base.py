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

import importlib
import inspect
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from ..core import Change, ChangePlan, Dataset, Findings
from ._params import ParamError, from_json, from_json_params, to_json

OpT = TypeVar("OpT", bound=type["Operation"])

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
    """Operation classes by recorded change op name (a copy; one entry per class)."""
    _load_builtin()
    return {cls.change_op: cls for cls in dict.fromkeys(_REGISTRY.values()) if cls.change_op}


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
                raise ValueError(f"{type(self).__name__} has no parameter {k!r}; it has {sorted(valid)}")
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
        self, ds: Dataset, findings: Findings | None, plan: ChangePlan, **options: Any
    ) -> dict[str, Any]:  # pragma: no cover - per family
        """Add the change's steps to ``plan``; return extra params to record (counts...)."""
        raise NotImplementedError(f"{type(self).__name__} has no apply step")

    def find(self, ds: Dataset) -> Findings:
        """Compute the findings on ``ds`` (nothing changes) and record a ``find_<name>`` event."""
        findings = self._find(ds)
        ds.history.record_event(f"find_{self.name}", self.json_params(), self._summary(ds, findings))
        self.findings_ = findings
        return findings

    def _summary(self, ds: Dataset, findings: Findings) -> dict[str, Any]:
        """What the find event records: ``findings.summary()``, plus what a family adds
        (e.g. the feature columns a model used)."""
        return findings.summary()

    def plan(self, ds: Dataset, findings: Findings | None = None, **options: Any) -> Change:
        """The one ``Change`` that acting on ``findings`` makes (nothing is recorded yet).

        ``options`` are the family's keyword options of the apply step (JSON values).
        """
        if findings is None and self.needs_findings:
            findings = getattr(self, "findings_", None)
            if findings is None:
                raise ValueError(
                    f"{type(self).__name__}.plan needs findings: call find(ds) first or pass them"
                )
        if findings is not None and not isinstance(findings, Findings):
            raise TypeError(
                f"findings must be the Findings from find(); got {type(findings).__name__}"
            )
        reason = options.pop("reason", None)
        params: dict[str, Any] = {
            "operation": self.json_params(),
            "options": {k: to_json(v) for k, v in options.items()},
        }
        if findings is not None:
            params["findings"] = {
                "op": findings.op,
                "version": findings.version,
                "digest": findings.digest(),
            }
        if reason is not None:
            params["reason"] = str(reason)
        plan = ds.plan(self.change_op, params)
        extra = self._plan(ds, findings, plan, **options)
        plan.params.update(extra or {})
        return plan.change()

    def apply(self, ds: Dataset, findings: Findings | None = None, **options: Any) -> int:
        """``ds.apply(self.plan(ds, findings, **options))``: one recorded change; the new version."""
        return ds.apply(self.plan(ds, findings, **options))

    def replay(self, ds: Dataset, recorded: dict[str, Any]) -> Change:
        """Re-plan a recorded change on (new) data ``ds``: find again, then plan with the
        recorded options. ``recorded`` is the change's params as the history holds them."""
        options = {k: from_json(v) for k, v in (recorded.get("options") or {}).items()}
        if recorded.get("reason") is not None:
            options["reason"] = recorded["reason"]
        findings = self.find(ds) if self.needs_findings else None
        return self.plan(ds, findings, **options)


def rebuild(op: str, recorded: dict[str, Any]) -> Operation:
    """The operation a recorded change came from, rebuilt from its op name and params."""
    cls = get_operation(op)
    if not isinstance(recorded, dict):
        raise ParamError(f"{op}: recorded params must be a JSON object; got {type(recorded).__name__}")
    params = recorded.get("operation")
    return cls.from_params({} if params is None else params)


Factory = Callable[..., Operation]

__all__ = ["Operation", "get_operation", "rebuild", "register", "registry"]
