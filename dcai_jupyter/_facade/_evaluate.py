"""See the effect: cross-validated evaluation recorded per version, and ``ds.history`` with
recipe replay (typed one-line methods onto the operations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..core import DatasetHistory

if TYPE_CHECKING:
    from ..ops._evaluate import Evaluation
    from ..ops._recipe import RecipeResult


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
            self._h,
            new_df,
            source=self._ds,
            name=name,
            history=history,
            progress=progress,
            dataset_class=type(self._ds),
        )

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {"replay_recipe"})


class EvaluateMixin:
    #: ``ds.history`` is a :class:`RecipeHistory` (core's view plus recipe replay)
    _history_view_class: type[DatasetHistory] = RecipeHistory

    def evaluate(
        self,
        model: Any = None,
        *,
        cv: int = 5,
        n_jobs: int | None = None,
        random_state: int | None = 0,
        progress: bool = True,
        features: Sequence[str] | None = None,
    ) -> Evaluation:
        """Cross-validated accuracy, macro F1 and per-class F1, recorded at the current version.

        Parameters
        ----------
        model
            A scikit-learn classifier with ``predict_proba``; ``None``: the default ensemble.
        cv, n_jobs, random_state, progress
            Stratified folds, joblib workers, seed, progress bar.
        features
            Columns to use (default: feature and text columns).

        Returns
        -------
        Evaluation
            ``accuracy``, ``macro_f1``, ``per_class`` (f1, precision, recall, support);
            the same numbers are in ``ds.history.metrics`` at ``ds.version``. Unlabeled
            pool rows are left out.
        """
        from ..ops._evaluate import evaluate_dataset

        return evaluate_dataset(
            self,  # type: ignore[arg-type]
            model=model,
            cv=cv,
            n_jobs=n_jobs,
            random_state=random_state,
            progress=progress,
            features=features,
        )
