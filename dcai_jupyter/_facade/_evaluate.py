"""See the effect: cross-validated evaluation recorded per version (a typed one-line method
onto the operation)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..ops._evaluate import Evaluation


class EvaluateMixin:
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
