"""``History.diff``, ``History.metrics`` and ``History.record_metrics`` (a base class of History).

Kept apart from ``_history.py`` (the file format and the append path): comparing versions
and attaching measurements only read the recorded deltas and write the ``metrics`` table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from . import _diff, _metrics

if TYPE_CHECKING:
    from ._history import History

__all__ = ["CompareMixin"]


class CompareMixin:
    """Row-level diffs between versions, and metrics recorded per version."""

    def diff(self, a: int, b: int) -> _diff.Diff:
        """Row-level diff between versions ``a`` and ``b``, read from the recorded deltas.

        Parameters
        ----------
        a, b
            Versions ``0 .. head``; ``diff(7, 3)`` reads backwards (what reverting to 3
            would change).

        Returns
        -------
        Diff
            ``added`` and ``removed`` rows (all columns), ``relabeled`` (``old`` -> ``new``)
            and ``modified`` (``sample_id``, ``column``, ``old``, ``new``); ``counts()``,
            ``summary()`` (one line per touched sample) and ``ids``.

        Examples
        --------
        >>> d = ds.history.diff(0, ds.version)  # doctest: +SKIP
        >>> d.counts()  # doctest: +SKIP
        {'added': 0, 'removed': 3, 'relabeled': 14, 'modified': 0}
        """
        h = cast("History", self)
        try:
            return _diff.history_diff(h, a, b)
        except sqlite3.DatabaseError as e:
            raise h._db_error(e) from None

    def record_metrics(
        self,
        version: int,
        values: Mapping[str, Any],
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Record metrics measured on ``version`` (e.g. ``{"accuracy": 0.93}``), one transaction.

        Parameters
        ----------
        version
            The data version the metrics were measured on (``0 .. head``).
        values
            Metric name -> finite number.
        params
            JSON parameters of the measurement (model, folds, ...).

        Raises
        ------
        ValueError
            Unknown version, empty or non-numeric metrics, params that are not JSON.
        HistoryError
            A history opened read-only (``open_history``).
        """
        h = cast("History", self)
        try:
            _metrics.record_metrics(h, version, values, params)
        except sqlite3.DatabaseError as e:
            raise h._db_error(e) from None

    @property
    def metrics(self) -> pd.DataFrame:
        """Recorded metrics, oldest first: ``version``, ``name``, ``value``, ``params``,
        ``source``, ``execution_count``, ``cell_id``, ``timestamp`` (by metric id)."""
        h = cast("History", self)
        try:
            return _metrics.metrics_frame(h)
        except (sqlite3.DatabaseError, pd.errors.DatabaseError) as e:
            cause = e if isinstance(e, sqlite3.DatabaseError) else e.__cause__
            if isinstance(cause, sqlite3.DatabaseError):
                raise h._db_error(cause) from None
            raise
