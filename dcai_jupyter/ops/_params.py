"""Operation parameters to and from JSON: estimators and callables by qualified name.

The history stores an operation's parameters as JSON so recipe replay can rebuild it.
Plain values stay as they are; a scikit-learn estimator becomes
``{"__estimator__": "sklearn.linear_model.LogisticRegression", "params": {...}}`` and a
function ``{"__callable__": "package.module.name"}``. Rebuilding imports only from the
module prefixes in ``TRUSTED_MODULES`` (a history file is data: it must not be able to
import arbitrary code); add yours with ``trust_module("mypackage")``.
"""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np

TRUSTED_MODULES: set[str] = {"sklearn", "imblearn", "dcai_jupyter", "numpy", "scipy"}


def trust_module(prefix: str) -> None:
    """Allow recipe replay to import estimators and callables from ``prefix``."""
    TRUSTED_MODULES.add(prefix.split(".")[0])


class ParamError(ValueError):
    """A parameter that cannot be stored as JSON or rebuilt from it."""


def to_json(value: Any) -> Any:
    """``value`` as JSON data (raises ParamError naming what cannot be stored)."""
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
        return [to_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_json(v) for v in value.tolist()]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, (str, int, np.integer)) or isinstance(k, bool):
                raise ParamError(f"parameter dict keys must be strings or integers; got {k!r}")
            out[str(k) if isinstance(k, str) else f"__int__{int(k)}"] = to_json(v)
        return out
    if hasattr(value, "get_params") and hasattr(value, "fit"):
        cls = type(value)
        return {
            "__estimator__": f"{cls.__module__}.{cls.__qualname__}",
            "params": {k: to_json(v) for k, v in value.get_params(deep=False).items()},
        }
    if callable(value) and hasattr(value, "__qualname__") and hasattr(value, "__module__"):
        if "<locals>" in value.__qualname__ or value.__qualname__ == "<lambda>":
            raise ParamError(
                f"{value!r} is a lambda or a local function: the history cannot name it for "
                "replay. Define it at module level (importable) and pass that"
            )
        return {"__callable__": f"{value.__module__}.{value.__qualname__}"}
    raise ParamError(
        f"parameter value {value!r} ({type(value).__name__}) cannot be stored as JSON; pass "
        "numbers, strings, lists, dicts, scikit-learn estimators or module-level functions"
    )


def from_json(value: Any) -> Any:
    """Inverse of :func:`to_json`."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__estimator__" in value:
        cls = _import(value["__estimator__"])
        params = {k: from_json(v) for k, v in (value.get("params") or {}).items()}
        return cls(**params)
    if "__callable__" in value:
        return _import(value["__callable__"])
    return {
        (int(k[len("__int__") :]) if k.startswith("__int__") else k): from_json(v)
        for k, v in value.items()
    }


def _import(qualified: str) -> Any:
    root = qualified.split(".")[0]
    if root not in TRUSTED_MODULES:
        raise ParamError(
            f"{qualified} is not from a trusted module ({sorted(TRUSTED_MODULES)}); call "
            f"dcai_jupyter.ops.trust_module({root!r}) to allow replaying it"
        )
    parts = qualified.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            break
        return obj
    raise ParamError(f"cannot import {qualified} to rebuild a recorded parameter")


__all__ = ["TRUSTED_MODULES", "ParamError", "from_json", "to_json", "trust_module"]
