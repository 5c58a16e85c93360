"""Operation parameters to and from JSON: parameters are data, never code.

The history stores an operation's parameters as JSON so recipe replay can rebuild it.
Plain values stay as they are; a scikit-learn estimator becomes
``{"__estimator__": "sklearn.linear_model._logistic.LogisticRegression", "params": {...}}``
and a function ``{"__callable__": "<its registered name>"}``.

A history file is data that people send each other, so rebuilding a parameter never walks
module attributes and never calls anything that is not explicitly allowed:

- an **estimator** is a class that subclasses scikit-learn's ``BaseEstimator`` and is
  defined under a trusted package (``sklearn``, ``imblearn``, ``dcai_jupyter``; add yours
  with :func:`trust_module`). Exactly the recorded module is imported (it must be under a
  trusted package, every dotted part an identifier and none a dunder; scikit-learn's own
  modules are ``_private``), exactly one attribute is read from its namespace, and that
  class's own ``__module__``/``__qualname__`` must be the recorded ones. Its parameters
  are rebuilt by the same rules and must be ones its ``get_params()`` knows (a ``memory``
  cache directory is refused: a joblib cache loads pickles);
- a **function** is looked up by name in a registry the code fills: the built-in
  transforms, and what :func:`register_transform` adds. A function that is not registered
  cannot be recorded, and nothing is ever imported from a recorded name.

Anything else (an unknown marker, a wrong type, JSON nested deeper than ``MAX_DEPTH``
levels or bigger than ``MAX_SIZE``) is a :class:`ParamError`.
"""

from __future__ import annotations

import importlib
import inspect
import math
import re
import types
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

#: packages whose scikit-learn estimator classes a recorded parameter may name
TRUSTED_MODULES: set[str] = {"sklearn", "imblearn", "dcai_jupyter"}
#: how deeply a recorded parameter may nest (lists, objects, estimator params)
MAX_DEPTH = 32
#: how big a recorded parameter may be: JSON values plus the characters of its strings
MAX_SIZE = 20_000_000

_F = TypeVar("_F", bound=Callable[..., Any])
#: recorded name -> function (see register_transform)
_CALLABLES: dict[str, Callable[..., Any]] = {}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,199}")


class ParamError(ValueError):
    """A parameter that cannot be stored as JSON or rebuilt from it."""


def _short(value: Any, n: int = 60) -> str:
    """``repr(value)`` cut to ``n`` characters: one line, whatever a file holds."""
    s = repr(value)
    return s if len(s) <= n else s[: n - 3] + "..."


def _plain_parts(dotted: str) -> list[str] | None:
    """The dotted parts of ``dotted`` when each is an identifier and none is a dunder."""
    parts = dotted.split(".")
    if len(dotted) > 300 or not all(p.isidentifier() and not p.startswith("__") for p in parts):
        return None
    return parts


def trust_module(prefix: str) -> None:
    """Allow recipe replay to rebuild scikit-learn estimator classes defined under ``prefix``.

    Parameters
    ----------
    prefix
        A package or module (``"mypackage"`` or ``"mypackage.models"``): classes whose
        ``__module__`` is it or below it, and that subclass scikit-learn's ``BaseEstimator``.
        Functions are never imported; register them with :func:`register_transform`.
    """
    if not isinstance(prefix, str) or _plain_parts(prefix) is None:
        raise ParamError(f"trust_module takes a dotted module name; got {_short(prefix)}")
    TRUSTED_MODULES.add(prefix)


def _trusted(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in TRUSTED_MODULES)


# ---------------------------------------------------------------------------- functions
def _qualified(fn: Any) -> str | None:
    module, qual = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qual, str):
        return None
    return f"{module}.{qual}"


def register_transform(fn: _F, name: str | None = None) -> _F:
    """Allow ``fn`` to be recorded in a history and called again by recipe replay.

    A history records a function by name only and never imports code, so a function
    passed as a parameter (an ``ds.augment`` transform, a ``ds.synthesize`` generator)
    must be registered first, in every process that records or replays it. Usable as a
    decorator.

    Parameters
    ----------
    fn
        The function.
    name
        The name to record it under (default: ``module.qualname``, e.g.
        ``"mypackage.transforms.blur"``). Lambdas and local functions need one.

    Returns
    -------
    The function itself.
    """
    if not callable(fn):
        raise TypeError(f"register_transform takes a function; got {type(fn).__name__}")
    qualified = _qualified(fn)
    if name is None:
        if qualified is None or "<" in qualified:
            raise ParamError(
                f"{_short(fn)} is a lambda or a local function: give it a name, "
                "register_transform(fn, name='my_transform')"
            )
        name = qualified
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ParamError(
            f"a function's recorded name is letters, digits and '_.:-'; got {_short(name)}"
        )
    _load_builtins()
    other = _CALLABLES.get(name)
    # a notebook cell defining and registering fn again replaces the old definition
    if other is not None and other is not fn and _qualified(other) != qualified:
        raise ParamError(f"the name {name!r} is taken by {_short(other)}; pass another name=")
    _CALLABLES[name] = fn
    return fn


def _load_builtins() -> None:
    # The built-in transforms register themselves when the ops package is imported (as the
    # operations do); importing the package, not the module, keeps this file below it.
    importlib.import_module("dcai_jupyter.ops")


def _registered_name(fn: Any) -> str | None:
    _load_builtins()
    return next((k for k, f in _CALLABLES.items() if f is fn), None)


def _registered(name: Any, where: str) -> Callable[..., Any]:
    if not isinstance(name, str):
        raise ParamError(
            f"{where}: a function's recorded name must be a string; got {_short(name)}"
        )
    _load_builtins()
    fn = _CALLABLES.get(name)
    if fn is None:  # histories recorded before the registry hold 'module.qualname'
        fn = next((f for f in _CALLABLES.values() if _qualified(f) == name), None)
    if fn is None:
        raise ParamError(
            f"{where}: {_short(name)} is not a registered function; a history never imports "
            "code: call dj.register_transform(fn) with that function before replaying"
        )
    return fn


# ---------------------------------------------------------------------------- to JSON
def to_json(value: Any) -> Any:
    """``value`` as JSON data (raises ParamError naming what cannot be stored)."""
    return _to_json(value, 0)


def _to_json(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ParamError(f"parameter value nests deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if not math.isfinite(f):
            raise ParamError(f"parameter value {f} is not finite; JSON cannot hold it")
        return f
    if isinstance(value, (list, tuple)):
        return [_to_json(v, depth + 1) for v in value]
    if isinstance(value, np.ndarray):
        return [_to_json(v, depth + 1) for v in value.tolist()]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, (str, int, np.integer)) or isinstance(k, bool):
                raise ParamError(f"parameter dict keys must be strings or integers; got {k!r}")
            out[str(k) if isinstance(k, str) else f"__int__{int(k)}"] = _to_json(v, depth + 1)
        return out
    if _is_estimator(value):
        cls = type(value)
        return {
            "__estimator__": f"{cls.__module__}.{cls.__qualname__}",
            "params": _estimator_params(value, depth),
        }
    if callable(value):
        name = _registered_name(value)
        if name is not None:
            return {"__callable__": name}
        qualified = _qualified(value) or ""
        local = "<lambda>" in qualified or "<locals>" in qualified
        what = "a lambda or a local function" if local else "not a registered function"
        hint = "dj.register_transform(fn, name='...')" if local else "dj.register_transform(fn)"
        raise ParamError(
            f"{_short(value)} is {what}: a history records functions by registered name only "
            f"(it never imports code). Call {hint} first, in every process that replays it"
        )
    raise ParamError(
        f"parameter value {_short(value)} ({type(value).__name__}) cannot be stored as JSON; "
        "pass numbers, strings, lists, dicts, scikit-learn estimators or registered functions"
    )


def _is_estimator(value: Any) -> bool:
    return not isinstance(value, type) and hasattr(value, "get_params") and hasattr(value, "fit")


def _estimator_params(est: Any, depth: int) -> dict[str, Any]:
    defaults: Mapping[str, inspect.Parameter]
    try:
        defaults = inspect.signature(type(est).__init__).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin __init__
        defaults = {}
    out = {}
    for k, v in est.get_params(deep=False).items():
        if callable(v) and not _is_estimator(v) and k in defaults and defaults[k].default is v:
            continue  # a default function (SelectKBest's score_func): rebuilt as the default
        out[k] = _to_json(v, depth + 2)
    return out


# ---------------------------------------------------------------------------- from JSON
def from_json(value: Any) -> Any:
    """Inverse of :func:`to_json`: plain data, allowed estimators and registered functions.

    Raises
    ------
    ParamError
        Anything else: an estimator class that is not allowed, an unregistered function, an
        unknown marker, a value that is not JSON data, too deep or too big.
    """
    return _Reader().read(value, 0, "value")


def from_json_params(params: Any, names: Any, owner: str) -> dict[str, Any]:
    """Recorded keyword parameters of ``owner`` rebuilt with :func:`from_json`.

    Parameters
    ----------
    params
        The recorded parameters: a JSON object.
    names
        The parameter names ``owner`` takes; any other is a ParamError.
    owner
        What the parameters belong to, for the errors (an op name).
    """
    if not isinstance(params, dict):
        raise ParamError(
            f"{owner}: recorded parameters must be a JSON object; got {type(params).__name__}"
        )
    valid = set(names)
    unknown = [k for k in params if k not in valid]
    if unknown:
        shown = ", ".join(_short(k, 40) for k in unknown[:5])
        raise ParamError(f"{owner} has no parameter {shown}; it has {sorted(valid)}")
    reader = _Reader()
    return {k: reader.read(v, 1, f"{owner} parameter {k!r}") for k, v in params.items()}


class _Reader:
    """One rebuild: counts the size so far (a budget across every parameter)."""

    def __init__(self) -> None:
        self.size = 0

    def read(self, value: Any, depth: int, where: str) -> Any:
        if depth > MAX_DEPTH:
            raise ParamError(f"{where}: nested deeper than {MAX_DEPTH} levels")
        self.size += 1 + (len(value) if isinstance(value, str) else 0)
        if self.size > MAX_SIZE:
            raise ParamError(f"{where}: the recorded parameters are bigger than {MAX_SIZE:,}")
        if value is None or isinstance(value, (bool, str, int)):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ParamError(f"{where}: {value} is not a finite number")
            return value
        if isinstance(value, list):
            return [self.read(v, depth + 1, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            raise ParamError(f"{where}: {type(value).__name__} is not JSON data")
        if "__estimator__" in value:
            return self.estimator(value, depth, where)
        if "__callable__" in value:
            if set(value) != {"__callable__"}:
                raise ParamError(f"{where}: a recorded function holds '__callable__' only")
            return _registered(value["__callable__"], where)
        out: dict[Any, Any] = {}
        for k, v in value.items():
            key: Any = k
            if not isinstance(k, str):
                raise ParamError(f"{where}: object keys must be strings; got {_short(k)}")
            if k.startswith("__int__"):
                digits = k[len("__int__") :]
                if not re.fullmatch(r"-?[0-9]{1,19}", digits):
                    raise ParamError(f"{where}: {_short(k)} is not an integer key")
                key = int(digits)
            elif k.startswith("__") and k.endswith("__"):
                raise ParamError(f"{where}: unknown marker {_short(k)}")
            out[key] = self.read(v, depth + 1, f"{where}[{_short(k, 40)}]")
        return out

    def estimator(self, value: dict[str, Any], depth: int, where: str) -> Any:
        extra = set(value) - {"__estimator__", "params"}
        if extra:
            raise ParamError(
                f"{where}: a recorded estimator holds '__estimator__' and 'params' only; got "
                f"{_short(sorted(map(str, extra)))}"
            )
        cls = _estimator_class(value["__estimator__"], where)
        params = value.get("params")
        params = {} if params is None else params
        if not isinstance(params, dict):
            raise ParamError(f"{where}: the params of {cls.__qualname__} must be a JSON object")
        known = set(cls._get_param_names())
        unknown = [k for k in params if k not in known]
        if unknown:
            raise ParamError(
                f"{where}: {cls.__qualname__} has no parameter "
                f"{', '.join(_short(k, 40) for k in unknown[:5])}"
            )
        if params.get("memory") is not None:  # a joblib cache loads pickles from that path
            raise ParamError(
                f"{where}: {cls.__qualname__}(memory=...) is not replayed (a joblib cache "
                "directory loads pickles); record it with memory=None"
            )
        kwargs = {k: self.read(v, depth + 2, f"{where}.{k}") for k, v in params.items()}
        try:
            return cls(**kwargs)
        except Exception as e:  # a constructor refusing its recorded values
            raise ParamError(
                f"{where}: cannot build {cls.__qualname__}: {_short(str(e), 200)}"
            ) from e


def _estimator_class(qualified: Any, where: str) -> Any:
    """The estimator class recorded as ``module.ClassName`` (see the module docstring)."""
    from sklearn.base import BaseEstimator

    if not isinstance(qualified, str):
        raise ParamError(
            f"{where}: an estimator's recorded name must be a string; got {_short(qualified)}"
        )
    parts = _plain_parts(qualified)
    if parts is None or len(parts) < 2:
        raise ParamError(
            f"{where}: {_short(qualified)} is not a 'module.ClassName' of plain identifiers"
        )
    module, name = ".".join(parts[:-1]), parts[-1]
    if not _trusted(module):
        raise ParamError(
            f"{where}: {_short(qualified)} is not from a trusted module ({sorted(TRUSTED_MODULES)}); "
            f"call dcai_jupyter.ops.trust_module({parts[0]!r}) to allow replaying it"
        )
    try:
        mod = importlib.import_module(module)
    except Exception as e:  # ImportError, or a trusted module failing to import
        raise ParamError(
            f"{where}: cannot import {module!r} to rebuild {name}: {_short(str(e), 200)}"
        ) from None
    # the module's own namespace: no module __getattr__ hook, no attribute walk
    cls = vars(mod).get(name) if isinstance(mod, types.ModuleType) else None
    if not (
        isinstance(cls, type)
        and issubclass(cls, BaseEstimator)
        and cls.__module__ == module
        and cls.__qualname__ == name
    ):
        raise ParamError(
            f"{where}: {_short(qualified)} is not a scikit-learn estimator class defined in {module!r}"
        )
    return cls


__all__ = [
    "MAX_DEPTH",
    "MAX_SIZE",
    "TRUSTED_MODULES",
    "ParamError",
    "from_json",
    "from_json_params",
    "register_transform",
    "to_json",
    "trust_module",
]
