"""``dj.Dataset``'s operation methods, derived from the operation classes (one source).

A method's signature is its operation's keyword-only constructor parameters (plus the
selection options its apply step takes, and ``reason``); its docstring is the summary and
``Returns`` of the step it runs (``_find`` or ``_plan``) around the ``Parameters`` of the
class docstring. Adding an operation to the facade is one line in a mixin::

    find_label_issues = find_method(LabelIssues, "find_label_issues")

so a parameter added to an operation is on ``ds`` at once, documented once.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from ..ops import Operation

__all__ = ["act_method", "find_method", "make_method"]

_REASON_DOC = "reason\n    Recorded with the change."
_SELECTOR_DOCS = {
    "ids": "ids\n    The samples to act on: a list, array, Index or Series of sample ids, or a\n"
    "    boolean mask (default: the operation's own choice).",
    "groups": "groups\n    Group numbers to act on (the findings' ``group``); ``None``: every group.",
    "top": "top\n    Take the ``top`` flagged findings, most suspicious first; ``None``: all.",
}


# ---------------------------------------------------------------------------- docstrings
def _sections(doc: str | None) -> tuple[str, dict[str, str]]:
    """A numpy docstring as (the text before the first section, {section title: body})."""
    text = inspect.cleandoc(doc or "")
    parts = re.split(r"^(\w[\w ]*)\n-{3,}\n", text, flags=re.M)
    head = parts[0].strip()
    return head, {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def _param_doc(cls: type[Operation]) -> str:
    _, sections = _sections(cls.__doc__)
    if "Parameters" not in sections:
        raise TypeError(f"{cls.__name__}'s docstring has no Parameters section to derive from")
    return sections["Parameters"]


def _doc(
    step: Callable[..., Any], cls: type[Operation], *, first: str = "", extra: list[str]
) -> str:
    head, sections = _sections(step.__doc__)
    params = "\n".join(p for p in [first, _param_doc(cls), *extra] if p)
    out = [
        head or (cls.__doc__ or "").strip().splitlines()[0],
        "",
        "Parameters",
        "----------",
        params,
    ]
    for title in ("Returns", "Raises", "Notes"):
        if title in sections:
            out += ["", title, "-" * len(title), sections[title]]
    return "\n".join(out) + "\n"


def _init_params(
    cls: type[Operation], *, positional: tuple[str, ...] = ()
) -> list[inspect.Parameter]:
    out = []
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self":
            continue
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD if p.name in positional else p.kind
        out.append(p.replace(kind=kind))
    return sorted(out, key=lambda p: p.kind)  # positional ones first


def _self() -> inspect.Parameter:
    return inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _kw(name: str, annotation: str, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


_SELECTOR_TYPES = {"ids": "Any", "groups": "Sequence[int] | None", "top": "int | None"}


def _named(fn: Callable[..., Any], name: str, sig: inspect.Signature, doc: str) -> Any:
    fn.__name__ = fn.__qualname__ = name
    fn.__signature__ = sig  # type: ignore[attr-defined]
    fn.__doc__ = doc
    fn.__wrapped_operation__ = None  # type: ignore[attr-defined]
    return fn


# ---------------------------------------------------------------------------- methods
def find_method(cls: type[Operation], name: str) -> Callable[..., Any]:
    """``ds.<name>(**params)``: ``cls(**params).find(ds)`` (recorded as an event)."""

    def method(self: Any, **params: Any) -> Any:
        return cls(**params).find(self)

    sig = inspect.Signature([_self(), *_init_params(cls)], return_annotation="Findings")
    out = _named(method, name, sig, _doc(cls._find, cls, extra=[]))
    out.__wrapped_operation__ = (cls, "find")
    return out


def act_method(cls: type[Operation], name: str) -> Callable[..., Any]:
    """``ds.<name>(findings, *, <selectors>, reason)``: act on findings of ``cls`` with the
    operation that made them (rebuilt from the parameters they record): one change."""

    def method(self: Any, findings: Any, *, reason: str | None = None, **select: Any) -> int:
        op = cls.for_findings(findings)
        return op.apply(self, findings, reason=reason, **select)

    first = (
        "findings\n    From the find step (or a subset of them: a selection, which recipe\n"
        "    replay carries over by sample id)."
    )
    params = [
        _self(),
        inspect.Parameter(
            "findings", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="Findings"
        ),
        *[_kw(s, _SELECTOR_TYPES[s]) for s in cls.selectors],
        _kw("reason", "str | None"),
    ]
    head, sections = _sections(cls._plan.__doc__)
    doc = "\n".join(
        [
            head,
            "",
            "Parameters",
            "----------",
            first,
            *[_SELECTOR_DOCS[s] for s in cls.selectors],
            _REASON_DOC,
            "",
            "Returns",
            "-------",
            sections.get("Returns", "int\n    The new version (unchanged when nothing changed)."),
        ]
    )
    out = _named(method, name, inspect.Signature(params, return_annotation="int"), doc + "\n")
    out.__wrapped_operation__ = (cls, "act")
    return out


def make_method(
    cls: type[Operation], name: str, *, positional: tuple[str, ...] = ()
) -> Callable[..., Any]:
    """``ds.<name>(**params, <selectors>, reason)``: run ``cls`` (its find step first where it
    has one) and apply its change. Returns the new rows' ids where the operation adds rows
    (``adds_rows``), else the new version."""
    adds = bool(getattr(cls, "adds_rows", False))

    def method(self: Any, *args: Any, reason: str | None = None, **kwargs: Any) -> Any:
        bound = sig.bind(self, *args, reason=reason, **kwargs)
        bound.apply_defaults()
        given = dict(bound.arguments)
        given.pop("self")
        given.pop("reason")
        select = {s: given.pop(s) for s in cls.selectors}
        op = cls(**given)
        if adds:
            return op.apply_added(self, reason=reason, **select)
        findings = op.find(self) if op.needs_findings else None
        return op.apply(self, findings, reason=reason, **select)

    params = [
        _self(),
        *_init_params(cls, positional=positional),
        *[_kw(s, _SELECTOR_TYPES[s]) for s in cls.selectors],
        _kw("reason", "str | None"),
    ]
    sig = inspect.Signature(params, return_annotation="np.ndarray" if adds else "int")
    extra = [_SELECTOR_DOCS[s] for s in cls.selectors] + [_REASON_DOC]
    out = _named(method, name, sig, _doc(cls._plan, cls, extra=extra))
    out.__wrapped_operation__ = (cls, "make")
    return out
