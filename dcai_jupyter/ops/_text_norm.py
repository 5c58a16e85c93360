"""Text as compared for copies: case, punctuation and spacing do not count.

Shared by the exact-copy content keys (:mod:`._duplicates`) and the per-column comparison
of mixed rows (:mod:`._mixed_rows`).
"""

from __future__ import annotations

import unicodedata

__all__ = ["normalize_text"]


def normalize_text(text: str) -> str:
    """Lower case (casefold), punctuation removed, runs of whitespace as one space, stripped."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in t)
    return " ".join(t.split())
