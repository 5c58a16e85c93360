"""Modify data: augmentation (typed one-line methods onto the operations)."""

from __future__ import annotations


class ModifyMixin:
    pass
