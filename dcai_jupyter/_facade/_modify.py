"""Modify data: augmentation (typed one-line methods onto the operations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class ModifyMixin:
    def augment(
        self,
        transform: Any,
        *,
        ids: Sequence[int] | np.ndarray | None = None,
        n: int = 1,
        random_state: int | None = 0,
        progress: bool = True,
        reason: str | None = None,
    ) -> np.ndarray:
        """Add ``n`` transformed copies of samples: one recorded change.

        Parameters
        ----------
        transform
            A built-in by name: ``"jitter"`` (numeric columns: gaussian noise scaled per
            feature), ``"shift"``, ``"rotate"``, ``"flip"``, ``"noise"`` (2-D/3-D array
            images), ``"token_dropout"``, ``"token_swap"``, ``"char_noise"`` (text); a dict
            ``{"name": "jitter", "scale": 0.1}`` with a built-in's parameters; a module-level
            function ``fn(rows, rng) -> rows`` (recorded by qualified name); or a list of
            those, applied in order.
        ids
            Source samples (default: every labeled row that is not synthetic or augmented).
        n
            Copies per source sample.
        random_state
            Seed: the same data and parameters give the same rows.
        progress
            Show a progress bar (large data, slow transforms).
        reason
            Recorded with the change.

        Returns
        -------
        np.ndarray
            The new rows' sample ids. Each carries the origin ``augmented:<names>`` and its
            source sample id (``ds.origins``); ``ds.remove_augmented()`` removes them all.

        Raises
        ------
        ValueError
            A transform that changes the columns, dtypes, row count or labels, or returns
            missing values (the error names it; nothing is recorded); unknown transform
            names; a transform with no column to act on.
        """
        from ..ops import Augment

        return Augment(
            transform=transform, n=n, random_state=random_state, progress=progress
        ).apply_added(
            self, ids=ids, reason=reason  # type: ignore[arg-type]
        )

    def remove_augmented(self, *, origin: str = "augmented", reason: str | None = None) -> int:
        """Remove every row whose origin is ``origin`` (or ``origin:...``): one recorded change.

        Parameters
        ----------
        origin
            ``"augmented"`` (all augmented rows) or e.g. ``"augmented:shift+noise"``.
        reason
            Recorded with the change.

        Returns
        -------
        int
            The new version.
        """
        return int(self.remove_origin(origin, reason=reason))  # type: ignore[attr-defined]
