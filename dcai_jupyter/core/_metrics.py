"""Metrics attached to versions of a history (``History.record_metrics`` / ``History.metrics``).

A metric (e.g. cross-validated accuracy from ``ds.evaluate()``) belongs to the version of
the data it was measured on, so the history shows which data change moved the model. The
rows live in the history file's ``metrics`` table, one per (version, name), written in one
transaction per call with the provenance of the call (cell, widget, script).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping
from typing import Any

import pandas as pd

from . import _codec
from ._history_store import HistoryStore, now_ms

__all__ = ["metrics_frame", "record_metrics"]


def _check(values: Mapping[str, Any]) -> list[tuple[str, float]]:
    if not isinstance(values, Mapping) or not values:
        raise ValueError(
            "pass the metrics as a non-empty dict of name -> number, e.g. {'accuracy': 0.93}"
        )
    out = []
    for name, v in values.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"metric names must be non-empty strings; got {name!r}")
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValueError(f"metric {name!r} must be a real number; got {v!r}")
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"metric {name!r} must be finite; got {f}")
        out.append((name, f))
    return out


def record_metrics(
    store: HistoryStore,
    version: int,
    values: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
) -> None:
    """Record metrics measured on ``version`` of the data (one transaction).

    Parameters
    ----------
    store
        The history file.
    version
        The version the metrics were measured on (``0 .. head``).
    values
        Metric name -> finite number, e.g. ``{"accuracy": 0.93, "macro_f1": 0.91}``.
    params
        JSON parameters of the measurement (model, folds, ...), stored with every row.

    Raises
    ------
    ValueError
        An unknown version, an empty dict, a name that is not a string, a value that is
        not a finite number, or params that are not JSON. Nothing is recorded then.
    HistoryError
        The history was opened read-only (``open_history``).
    """
    from ._provenance import current

    store.require_writable()
    version = store.check_version(version)
    rows = _check(values)
    try:
        params_text = _codec.dumps(dict(params)) if params else None
    except (TypeError, ValueError) as e:
        raise ValueError(f"metric params must be JSON values ({e})") from None
    with store.transaction(current()) as txn:
        ts = now_ms()
        txn.executemany(
            "INSERT INTO metrics(version, name, value, params, prov, ts) VALUES (?, ?, ?, ?, ?, ?)",
            [(version, name, value, params_text, txn.provenance_id, ts) for name, value in rows],
        )


def metrics_frame(store: HistoryStore) -> pd.DataFrame:
    """Every recorded metric, oldest first: ``version``, ``name``, ``value``, ``params``,
    ``source``, ``execution_count``, ``cell_id``, ``timestamp``.

    A metric measured twice on one version appears twice; ``wide()`` below keeps the newest.
    """
    df = store.select_frame(
        "SELECT m.id, m.version, m.name, m.value, m.params, p.source, p.execution_count,"
        " p.cell_id, m.ts FROM metrics m JOIN provenance p ON p.id = m.prov ORDER BY m.id"
    )
    df["params"] = [json.loads(p) if isinstance(p, str) else {} for p in df["params"]]
    df["timestamp"] = pd.to_datetime(df.pop("ts"), unit="ms", utc=True)
    df["execution_count"] = df["execution_count"].astype("Int64")
    df["cell_id"] = pd.Series(
        [v if isinstance(v, str) else None for v in df["cell_id"]], index=df.index, dtype=object
    )
    df["version"] = df["version"].astype("int64")
    df["value"] = df["value"].astype("float64")
    return df.set_index("id")


def metrics_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per version, one column per metric name (the newest value of each)."""
    if len(frame) == 0:
        return pd.DataFrame(index=pd.Index([], name="version", dtype="int64"))
    last = frame.groupby(["version", "name"], sort=True)["value"].last()
    return last.unstack("name")
