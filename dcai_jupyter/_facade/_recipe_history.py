"""``ds.history`` of the user-facing Dataset: core's view of the History plus recipe replay
(a typed one-line method onto ``ops._recipe``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..core import DatasetHistory

if TYPE_CHECKING:
    from ..ops._recipe import RecipeResult

__all__ = ["RecipeHistory", "RecipeHistoryMixin"]


class RecipeHistory(DatasetHistory):
    """``ds.history``: the dataset's ``History`` (every attribute), ``checkout(v)`` from the
    live state, and ``replay_recipe(new_df)``: the recorded operations re-run on new data."""

    __slots__ = ()

    def replay_recipe(
        self,
        new_df: pd.DataFrame,
        *,
        name: str | None = None,
        history: str | None = None,
        progress: bool = True,
    ) -> RecipeResult:
        """Re-run this history's recorded changes on ``new_df`` (e.g. next month's export).

        Operations (``accept_suggestions``, ``synthesize``, ...) are re-run from the
        registry with their recorded parameters; where one acted on a selection (``ids=``,
        ``groups=``, ``top=``, a subset of findings) its rule's find is re-run and the
        selection carries over like a person's decisions. Human decisions (relabels,
        removals and updates from a cell or a widget) carry over by sample id where the
        sample is unchanged (same content hash as when it was decided) and are listed for
        review where it changed or is gone. Nothing is dropped silently, and nothing is
        applied to a sample that was not decided on.

        Parameters
        ----------
        new_df
            The new data: the same columns; sample ids in its index (as for ``Dataset``).
        name
            Name of the replayed dataset (default ``<name>-recipe``).
        history
            Where the replayed dataset's history is kept (default: in memory).
        progress
            Progress bars of the re-run operations.

        Returns
        -------
        RecipeResult
            ``.dataset`` (its history says it came from this recipe), ``.applied``,
            ``.skipped`` (with reasons) and ``.needs_review`` frames.
        """
        from ..ops._recipe import replay_recipe

        return replay_recipe(
            self.history,
            new_df,
            source=self.dataset,
            name=name,
            history=history,
            progress=progress,
            dataset_class=type(self.dataset),
        )

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {"replay_recipe"})


class RecipeHistoryMixin:
    #: ``ds.history`` is a :class:`RecipeHistory` (core's view plus recipe replay)
    _history_view_class: type[DatasetHistory] = RecipeHistory
