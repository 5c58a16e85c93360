"""Fix labels: ``ds.find_label_issues()`` and ``ds.accept_suggestions()``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ..core import Findings


class LabelsMixin:
    def find_label_issues(
        self,
        *,
        model: Any = None,
        cv: int = 5,
        n_jobs: int | None = None,
        random_state: int | None = 0,
        progress: bool = True,
        features: Sequence[str] | None = None,
        filter_by: str = "prune_by_noise_rate",
        frac_noise: float = 1.0,
        num_to_remove_per_class: int | Sequence[int] | None = None,
        min_examples_per_class: int = 1,
        rank_by: str = "self_confidence",
        min_support: float = 0.05,
    ) -> Findings:
        """Rank labeled samples by how likely their label is wrong (recorded as an event).

        Parameters
        ----------
        model
            A scikit-learn classifier with ``predict_proba``; ``None``: the default ensemble
            (kNN vote, logistic regression and a Gaussian per class, weighted by how well
            they predict the given labels out of fold, refit without the flagged samples).
        cv, n_jobs, random_state, progress
            Cross-validation folds, joblib workers (a ``joblib.parallel_backend`` context,
            e.g. dask, is honoured), seed, progress bar.
        features
            Columns to use (default: feature and text columns).
        filter_by
            Which samples are flagged, cleanlab's options: ``"prune_by_noise_rate"``
            (default), ``"prune_by_class"``, ``"both"``, ``"confident_learning"``,
            ``"predicted_neq_given"``, ``"low_normalized_margin"``, ``"low_self_confidence"``.
        frac_noise
            Flag only this fraction (0, 1] of the estimated issues (prune filters).
        num_to_remove_per_class
            How many to flag per class: one int, or one per class in ``ds.classes`` order.
        min_examples_per_class
            Classes this small are never flagged; at least this many are kept per class.
        rank_by
            ``label_quality`` and the order: ``"self_confidence"``, ``"normalized_margin"``
            or ``"confidence_weighted_entropy"``.
        min_support
            Also flag samples whose label gets less than this probability while another
            class is the most probable (0: exactly cleanlab's flags).

        Returns
        -------
        Findings
            By sample id, flagged first, most suspicious first: ``given_label``,
            ``suggested_label`` (the suggestion role), ``label_quality`` (0..1),
            ``score`` (1 - quality; the score role), ``is_issue`` (the flag role). Rows
            without a label (an unlabeled pool) are left out. An event
            ``find_label_issues`` records the parameters, the features used and a digest.
        """
        from ..ops import LabelIssues

        return LabelIssues(
            model=model,
            cv=cv,
            n_jobs=n_jobs,
            random_state=random_state,
            progress=progress,
            features=features,
            filter_by=filter_by,
            frac_noise=frac_noise,
            num_to_remove_per_class=num_to_remove_per_class,
            min_examples_per_class=min_examples_per_class,
            rank_by=rank_by,
            min_support=min_support,
        ).find(self)  # type: ignore[arg-type]

    def accept_suggestions(
        self,
        issues: Findings | pd.DataFrame,
        *,
        top: int | None = None,
        reason: str | None = None,
    ) -> int:
        """Relabel the ``top`` flagged samples to their suggested label: one recorded change.

        Parameters
        ----------
        issues
            The ``Findings`` from :meth:`find_label_issues` (or a subset of them, or a
            frame with a ``suggested_label`` column).
        top
            How many flagged samples to take, most suspicious first; ``None``: all.
        reason
            Recorded with the change.

        Returns
        -------
        int
            The new version (unchanged when there was nothing to change). Samples
            relabeled since the issues were found (current label differs from
            ``given_label``) are left alone.

        Raises
        ------
        KeyError
            Sample ids in ``issues`` removed since; run ``find_label_issues()`` again.
        ValueError
            ``top`` is not a non-negative integer; ``issues`` are not label issues.
        """
        from ..ops import LabelIssues

        return LabelIssues.for_findings(issues).apply(self, issues, top=top, reason=reason)  # type: ignore[arg-type]
