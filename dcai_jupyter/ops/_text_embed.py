"""Sentence embeddings of a text column, offline (the optional ``text`` extra: WordLlama).

``embed_text(texts)`` returns one 256-dimension vector per text from WordLlama's bundled
``l2_supercat_256`` weights (token embeddings distilled from Llama 2's; MIT licence), with
no network: the weights and the tokenizer ship inside the ``wordllama`` wheel, and the
vectors are read from those files directly (WordLlama's own loader, for another wheel
layout, with downloads forbidden). About 0.1 s to load, then ~10,000 short texts per
second on one core.

Put the vectors in a column and it is an ``embedding`` feature (``ds.roles``):

    df["title_vec"] = list(embed_text(df["title"]))

On titles and short reviews the full TF-IDF the label-issue ensemble already reads is the
stronger signal (measured in ``notes/text-embeddings-and-real-data.md``); the vectors help
where meaning matters more than words (paraphrases).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["embed_text"]

_LOCK = threading.Lock()
_MODEL: Any = None
#: the files the ``wordllama`` wheel ships (0.4): token vectors and the tokenizer
_WEIGHTS = "weights/l2_supercat_256.safetensors"
_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
_TENSOR = "embedding.weight"
#: texts tokenised and padded together (WordLlama's own batch: the same sums, bit for bit)
_BATCH = 64


class _TokenMeans:
    """WordLlama's ``embed``: each text's mean token vector (tokenised without special
    tokens), read from the wheel's files without importing the ``wordllama`` package, whose
    import (pydantic, requests, toml) costs 0.3 s of the 0.45 s its loader takes."""

    def __init__(self, folder: Path) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        with safe_open(str(folder / _WEIGHTS), framework="np", device="cpu") as f:
            self._stored = f.get_tensor(_TENSOR)  # float16 in the wheel
        # float32 rows, converted when a text first uses them (exact: every float16 is a
        # float32): all 32,000 at once took 0.10 s, most of the load
        self._vectors = np.zeros(self._stored.shape, dtype=np.float32)
        self._ready = np.zeros(self._stored.shape[0], dtype=bool)
        self._lock = threading.Lock()
        self.tokenizer = Tokenizer.from_file(str(folder / _TOKENIZER))
        self.tokenizer.enable_padding()
        self.tokenizer.no_truncation()

    def embed(self, texts: list[str]) -> np.ndarray:
        vocab, dim = self._stored.shape
        out = np.empty((len(texts), dim), dtype=np.float32)
        for i in range(0, len(texts), _BATCH):
            enc = self.tokenizer.encode_batch(texts[i : i + _BATCH], add_special_tokens=False)
            ids = np.array([e.ids for e in enc], dtype=np.int32)
            mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
            np.clip(ids, 0, vocab - 1, out=ids)
            with self._lock:
                new = np.unique(ids)
                new = new[~self._ready[new]]
                self._vectors[new] = self._stored[new].astype(np.float32)
                self._ready[new] = True
            total = np.maximum(mask.sum(axis=1, keepdims=True), 1.0).astype(np.float32)
            x = self._vectors[ids] * mask[..., np.newaxis]
            out[i : i + len(enc)] = np.sum(x, axis=1, dtype=np.float32) / total
        return out


def _model() -> Any:
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            spec = importlib.util.find_spec("wordllama")
            if spec is None or spec.origin is None:
                raise ImportError("embed_text needs WordLlama: pip install 'dcai-jupyter[text]'")
            folder = Path(spec.origin).parent
            if (folder / _WEIGHTS).is_file() and (folder / _TOKENIZER).is_file():
                _MODEL = _TokenMeans(folder)
            else:  # another layout than the 0.4 wheel's: WordLlama's own loader
                from wordllama import WordLlama

                _MODEL = WordLlama.load(cache_dir=folder, disable_download=True)
        return _MODEL


def embed_text(texts: Iterable[Any], *, batch_size: int = 4096) -> np.ndarray:
    """One embedding (256 float32 values: the mean token vector, not unit length) per text;
    missing texts -> zeros.

    Parameters
    ----------
    texts
        Strings (a list, array or Series); missing values (None, NaN) embed as zeros.
    batch_size
        Texts embedded per call.

    Returns
    -------
    np.ndarray of shape (n, 256), float32
    """
    import pandas as pd

    items = list(texts)
    wl = _model()
    missing = np.asarray(pd.isna(pd.Series(items, dtype=object)), dtype=bool)
    out: np.ndarray | None = None
    docs = [str(t) for t, m in zip(items, missing, strict=True) if not m]
    vecs = [
        np.asarray(wl.embed(docs[i : i + batch_size]), dtype=np.float32)
        for i in range(0, len(docs), batch_size)
    ]
    dim = vecs[0].shape[1] if vecs else 256
    out = np.zeros((len(items), dim), dtype=np.float32)
    if docs:
        out[~missing] = np.vstack(vecs)
    return out
