"""Add data: the unlabeled pool, active learning, pseudo-labels (typed one-line methods onto the operations)."""

from __future__ import annotations


class AddMixin:
    pass
