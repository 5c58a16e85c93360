"""Add data: the unlabeled pool, active learning, pseudo-labels (typed one-line methods onto the operations).

The pool is the rows whose label is missing (``ds.add(rows)`` with no label forms it).
Pool rows are not training rows: label issues and evaluation leave them out until a
person (``ds.relabel``, the label editor) or ``ds.pseudo_label`` gives them a label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ..core import Findings


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

    def suggest_samples(
        self,
        *,
        k: int = 20,
        strategy: str = "auto",
        focus: str | None = None,
        model: Any = None,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
        progress: bool = True,
    ) -> Findings:
        """The ``k`` pool rows most worth labeling next (recorded as an event; nothing changes).

        Parameters
        ----------
        k
            How many rows to suggest (at most the pool size).
        strategy
            ``"auto"`` (default: an uncertainty shortlist spread over the feature space by
            k-means), ``"random"``, ``"least_confidence"``, ``"margin"``, ``"entropy"`` or
            ``"diverse"``.
        focus
            ``"weakest"``: favour rows that probably belong to the classes the model does
            worst on (per-class cross-validated F1 on the labeled rows).
        model
            A scikit-learn classifier with ``predict_proba``; ``None``: a small default.
        features
            Columns to use (default: the feature and text columns).
        random_state, progress
            Seed; progress bar on slow model fits.

        Returns
        -------
        Findings
            Action ``"label"``, best first: ``rank``, ``score`` (the strategy's score),
            ``predicted_label``, ``confidence``, ``suggested``, ``reason``. Label them
            with ``ds.relabel(ids, labels)`` or ``dj.LabelEditor(ds, picks)``.
        """
        from ..ops import SuggestSamples

        return SuggestSamples(
            k=k,
            strategy=strategy,
            focus=focus,
            model=model,
            features=features,
            random_state=random_state,
            progress=progress,
        ).find(self)  # type: ignore[arg-type]

    def pseudo_label(
        self,
        *,
        threshold: float = 0.95,
        model: Any = None,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
        progress: bool = True,
        reason: str | None = None,
    ) -> int:
        """Label the pool rows predicted with probability >= ``threshold``: one recorded change.

        The labels carry label origin ``"pseudo"`` (``ds.origins``); a model fit on the
        labels people gave predicts them. ``ds.remove_pseudo_labels()`` takes them all
        back. Returns the new version (unchanged when no row is confident enough).
        """
        from ..ops import PseudoLabel

        op = PseudoLabel(
            threshold=threshold,
            model=model,
            features=features,
            random_state=random_state,
            progress=progress,
        )
        return op.apply(self, op.find(self), reason=reason)  # type: ignore[arg-type]

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
