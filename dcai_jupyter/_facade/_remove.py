"""Remove data: duplicates, outliers, pruning (typed one-line methods onto the operations)."""

from __future__ import annotations


class RemoveMixin:
    pass
