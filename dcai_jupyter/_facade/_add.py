"""Add data: the unlabeled pool, active learning, pseudo-labels (typed one-line methods onto the operations).

The pool is the rows whose label is missing (``ds.add(rows)`` with no label forms it).
Pool rows are not training rows: label issues and evaluation leave them out until a
person (``ds.relabel``, the label editor) or ``ds.pseudo_label`` gives them a label.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..ops import PseudoLabel, SuggestSamples
from ._derive import find_method, make_method


def _labeled(self: Any) -> Any:
    return ~pd.isna(pd.Series(self.column(self.label), dtype=object)).to_numpy()


class AddMixin:
    @property
    def pool(self) -> pd.DataFrame:
        """The unlabeled pool: rows whose label is missing, by sample id (a read view)."""
        df = self.df  # type: ignore[attr-defined]
        return df[~_labeled(self)]

    @property
    def labeled(self) -> pd.DataFrame:
        """Rows that have a label (a person's or a pseudo-label; see ``ds.origins``), by sample id."""
        df = self.df  # type: ignore[attr-defined]
        return df[_labeled(self)]

    suggest_samples = find_method(SuggestSamples, "suggest_samples")

    pseudo_label = make_method(PseudoLabel, "pseudo_label")

    def remove_pseudo_labels(self, *, reason: str | None = None) -> int:
        """Put every pseudo-labeled row back into the pool (label missing): one recorded change.

        The rows stay (ids, features) for a person to label; labels a person gave are kept.
        Returns the new version. To delete the rows instead:
        ``ds.remove(ds.ids_with_origin("pseudo"))``.
        """
        from ..ops import Unlabel

        return Unlabel().apply(self, reason=reason)  # type: ignore[arg-type]

    def unlabel(self, ids: Any, *, reason: str | None = None) -> int:
        """Put labeled rows back into the pool (label missing), whoever labeled them: one
        recorded change. ``ids``: a list, array, Index or Series of sample ids, or a
        boolean mask. Rows already in the pool are skipped. Returns the new version."""
        from ..core._validate import resolve_ids
        from ..ops import Unlabel

        chosen = resolve_ids(ids, self.ids)  # type: ignore[attr-defined]
        return Unlabel(ids=chosen.tolist(), label_origin=None).apply(self, reason=reason)  # type: ignore[arg-type]
