"""See the effect: cross-validated evaluation recorded per version (typed one-line methods onto the operations)."""

from __future__ import annotations


class EvaluateMixin:
    pass
