"""Synthesize data: SMOTE and targeted synthesis (typed one-line methods onto the operations)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


class SynthesizeMixin:
    def synthesize(
        self,
        *,
        method: str | Callable[..., pd.DataFrame] | Any = "smote",
        target: str | Mapping[Any, int] = "balance",
        k_neighbors: int = 5,
        features: Sequence[str] | None = None,
        model: Any = None,
        cv: int = 5,
        n_jobs: int | None = None,
        progress: bool = True,
        random_state: int | None = 0,
        method_params: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> np.ndarray:
        """Add synthetic labeled rows for rare or weak classes: one recorded change.

        Parameters
        ----------
        method
            ``"smote"`` (SMOTE, SMOTENC when some feature columns are categorical, SMOTEN
            when all are), an imbalanced-learn over-sampler instance, or a module-level
            generator ``generator(X, y, counts, *, random_state, **method_params) ->
            DataFrame`` (recorded by qualified name).
        target
            ``"balance"`` (every class up to the largest), ``{class: total rows}``, or
            ``"weakest"``: rows for the classes with the lowest cross-validated F1, more
            the weaker they are (see :mod:`dcai_jupyter.ops._synthesize`).
        k_neighbors
            SMOTE's neighbours; each class that gets rows needs more rows than this.
        features
            Columns to synthesize from (default: the feature columns). Text and image
            columns cannot be interpolated (use ``ds.augment`` or a generator).
        model, cv, n_jobs, progress
            The cross-validation behind ``target="weakest"``.
        random_state
            Seed: the same data and parameters give the same rows.
        method_params
            Keyword arguments of a generator callable.
        reason
            Recorded with the change.

        Returns
        -------
        np.ndarray
            The new rows' sample ids (empty, and nothing recorded, when no class needs
            rows). They carry the origin ``synthetic:<method>`` (``ds.origins``); remove
            them all with ``ds.remove_synthetic()``.
        """
        from ..ops import Synthesize

        return Synthesize(
            method=method,
            target=target,
            k_neighbors=k_neighbors,
            features=features,
            model=model,
            cv=cv,
            n_jobs=n_jobs,
            progress=progress,
            random_state=random_state,
            method_params=method_params,
        ).apply_added(self, reason=reason)  # type: ignore[arg-type]

    def remove_synthetic(self, *, origin: str = "synthetic", reason: str | None = None) -> int:
        """Remove every row whose origin is ``origin`` (or ``origin:...``): one recorded change.

        Parameters
        ----------
        origin
            ``"synthetic"`` (all synthetic rows), ``"synthetic:smote"``, ... (see
            ``ds.origins``).
        reason
            Recorded with the change.

        Returns
        -------
        int
            The new version.
        """
        return int(self.remove_origin(origin, reason=reason))  # type: ignore[attr-defined]
