"""Text columns by meaning: which embedder a dataset uses, and its vectors, cached per version.

``dj.Dataset(df, ..., embed=None)`` chooses how text columns are embedded besides TF-IDF:

- ``None`` (default): WordLlama's :func:`~._text_embed.embed_text` when the ``text`` extra
  is installed; without it TF-IDF alone, said once in a plain line;
- a function ``texts -> 2-D array`` (one row per text): a user's own model. It is recorded
  in the history by its registered name (``dj.register_transform(fn)``, as transforms are)
  so a recipe replay embeds the new data with the same function; nothing is ever imported
  from a history;
- ``False``: no embeddings.

The vectors of a text column are computed once per dataset version and kept on the
dataset (never in the history). Label issues (an extra ensemble member on them), near
copies of mixed rows (texts similar by meaning) and the dense view that active learning
and pseudo-labels read use them.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_NAME",
    "EMBED_SETTING",
    "embed_available",
    "embed_setting",
    "recorded_embed",
    "resolve_embed",
    "set_embed",
    "text_vectors",
]

#: the history setting that records a dataset's embedder by name
EMBED_SETTING = "text_embedding"
#: the recorded name of the default embedder (WordLlama, the ``text`` extra)
DEFAULT_NAME = "wordllama"
_LOCK = threading.Lock()


def embed_available() -> bool:
    """Whether the ``text`` extra (WordLlama) can be imported."""
    try:
        return importlib.util.find_spec("wordllama") is not None
    except (ImportError, ValueError):
        return False


def _default(texts: Any) -> np.ndarray:
    from ._text_embed import embed_text

    return embed_text(texts)


def resolve_embed(embed: Any) -> tuple[str | None, Callable[[Any], Any] | None]:
    """``(recorded name, function)`` of a ``Dataset(embed=...)`` value.

    ``None``: the default when the text extra is installed, else ``(None, None)``;
    ``False``: ``("off", None)``; a function: its registered name (ParamError when it is
    not registered); a string: a registered name (as a replay reads it from a history).
    """
    from ._params import ParamError, _registered, _registered_name

    if embed is None:
        return (DEFAULT_NAME, _default) if embed_available() else (None, None)
    if embed is False:
        return "off", None
    if isinstance(embed, str):
        if embed == DEFAULT_NAME:
            if not embed_available():
                raise ImportError(
                    "this history embeds text with WordLlama: pip install 'dcai-jupyter[text]' "
                    "(or pass embed=False)"
                )
            return DEFAULT_NAME, _default
        if embed == "off":
            return "off", None
        return embed, _registered(embed, "embed")
    if embed is True:
        raise ValueError(
            "embed takes None (the default embedder), False, or a function texts -> 2-D array"
        )
    if not callable(embed):
        raise TypeError(
            f"embed must be None, False or a function texts -> 2-D array; got {type(embed).__name__}"
        )
    name = _registered_name(embed)
    if name is None:
        raise ParamError(
            f"embed={getattr(embed, '__name__', embed)!r} is not a registered function: a "
            "history records the embedder by name; call dj.register_transform(fn) (a lambda or "
            "local function needs name='...') before creating the dataset"
        )
    return name, embed


def embed_setting(ds: Any) -> tuple[str | None, Callable[[Any], Any] | None]:
    """The dataset's embedder ``(name, function)``; a dataset made without ``embed=``
    (core's ``Dataset``) gets the default."""
    got = ds.__dict__.get("_embed")
    if got is None:
        got = resolve_embed(None)
        ds.__dict__["_embed"] = got
    return got


def text_vectors(ds: Any, column: str) -> np.ndarray | None:
    """Unit-length embeddings (float32, ``(len(ds), d)``) of a text column at the dataset's
    current version, or None without an embedder. Missing texts are zero rows."""
    name, fn = embed_setting(ds)
    if fn is None:
        return None
    key = (column, int(ds.version), name)
    with _LOCK:
        cache = ds.__dict__.setdefault("_embed_cache", {})
        hit = cache.get(key)
    if hit is not None:
        return hit
    import pandas as pd

    values = list(np.asarray(ds.column(column), dtype=object))
    missing = np.asarray(pd.isna(pd.Series(values, dtype=object)), dtype=bool)
    docs = ["" if m else str(v) for v, m in zip(values, missing, strict=True)]
    E = np.asarray(fn(docs), dtype=np.float32)
    if E.ndim != 2 or E.shape[0] != len(docs):
        raise ValueError(
            f"embed {name!r} returned shape {E.shape} for {len(docs)} texts: it must return a "
            "2-D array with one row per text"
        )
    if not np.isfinite(E).all():
        raise ValueError(f"embed {name!r} returned NaN or infinite values")
    norm = np.linalg.norm(E, axis=1, keepdims=True)
    E = (E / np.where(norm > 0, norm, 1.0)).astype(np.float32)
    E[missing] = 0.0
    E.setflags(write=False)
    with _LOCK:
        # keep only the current version's vectors
        for k in [k for k in cache if k[1] != key[1]]:
            del cache[k]
        cache[key] = E
    return E


def recorded_embed(history: Any) -> str | None:
    """The embedder name a history records (None: none recorded)."""
    return history.store.setting(EMBED_SETTING)


def set_embed(ds: Any, setting: tuple[str | None, Callable[[Any], Any] | None]) -> None:
    """Give ``ds`` the embedder ``setting`` (from :func:`resolve_embed`) and record its name
    in the history's settings (a function by name only; no change or event is recorded)."""
    name, _ = setting
    ds.__dict__["_embed"] = setting
    ds.__dict__.pop("_embed_cache", None)
    if name is None or not getattr(ds, "text_columns", None):
        return
    if recorded_embed(ds.history) != name:
        ds.history.store.set_setting(EMBED_SETTING, name)
