"""Synthesize data: SMOTE and targeted synthesis (typed one-line methods onto the operations)."""

from __future__ import annotations


class SynthesizeMixin:
    pass
