"""How many rows ``ds.synthesize()`` makes per class (``target``), and the labeled rows and
class counts it reads: ``"balance"`` (every class up to the largest), ``{class: rows}``, or
``"weakest"`` (per-class F1 of out-of-sample predictions decides; see
:mod:`._synthesize`'s docstring for the rule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = ["TARGETS", "synthesis_counts"]

TARGETS = ("balance", "weakest")


def _labeled(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Ids and labels of the rows that have a label (the unlabeled pool is left out)."""
    labels = np.asarray(ds.column(ds.label), dtype=object)
    if len(labels) == 0:
        raise ValueError("the dataset is empty: there is nothing to synthesize from")
    has = ~pd.isna(pd.Series(labels, dtype=object)).to_numpy()
    if not has.any():
        raise ValueError(
            "no row has a label: synthesis makes rows of a class from labeled rows of it; "
            "label some rows first"
        )
    return np.asarray(ds.ids)[has], labels[has]


def _class_counts(ds: Dataset, labels: np.ndarray) -> dict[Any, int]:
    """Rows per class present, in the dataset's class order."""
    vc = pd.Series(labels, dtype=object).value_counts()
    present = {_plain(k): int(v) for k, v in vc.items()}
    order = [c for c in ds.classes if c in present]
    return {c: present[c] for c in order + [c for c in present if c not in order]}


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _class_name(v: Any) -> str:
    return repr(_plain(v))


def synthesis_counts(
    counts: Mapping[Any, int],
    target: str | Mapping[Any, int],
    *,
    f1: Mapping[Any, float] | None = None,
) -> dict[Any, int]:
    """Rows to synthesize per class for ``target`` (see the module docstring).

    Parameters
    ----------
    counts
        Labeled rows per class now.
    target
        ``"balance"``, ``"weakest"`` (needs ``f1``) or ``{class: total rows wanted}``.
    f1
        Cross-validated F1 per class (for ``"weakest"``).

    Returns
    -------
    dict
        ``{class: rows to add}`` for the classes that get rows (> 0), in ``counts`` order.

    Raises
    ------
    ValueError
        An unknown target, a class in a dict target that has no labeled row, or a total
        below the rows the class already has.
    """
    if not counts:
        raise ValueError("no labeled rows: there is nothing to synthesize from")
    largest = max(counts.values())
    if isinstance(target, str):
        if target == "balance":
            add = {c: largest - n for c, n in counts.items()}
        elif target == "weakest":
            if f1 is None:
                raise ValueError("target='weakest' needs the per-class F1 scores (f1=)")
            scores = {c: float(f1[c]) for c in counts}
            best = max(scores.values())
            mean = float(np.mean(list(scores.values())))
            add = {
                c: round(largest * (best - s) / best) if best > 0 and s < mean else 0
                for c, s in scores.items()
            }
        else:
            raise ValueError(
                f"target must be 'balance', 'weakest' or a dict {{class: rows}}; got {target!r}"
            )
    elif isinstance(target, Mapping):
        if not target:
            raise ValueError("target is an empty dict: name at least one class and its row count")
        unknown = [k for k in target if k not in counts]
        if unknown:
            raise ValueError(
                f"target names classes {unknown} that have no labeled row; the classes are "
                f"{list(counts)}. Synthesis needs rows of a class to make more of it"
            )
        add = {}
        for c, want in target.items():
            if isinstance(want, bool) or not isinstance(want, (int, np.integer)):
                raise ValueError(
                    f"target[{_class_name(c)}] must be a whole number of rows; got {want!r}"
                )
            if want < counts[c]:
                raise ValueError(
                    f"target[{_class_name(c)}] = {int(want)} is below the {counts[c]} rows the "
                    "class already has: synthesis only adds rows (the target is the total "
                    "after synthesis); remove rows with ds.remove or ds.prune"
                )
            add[c] = int(want) - counts[c]
    else:
        raise TypeError(
            f"target must be 'balance', 'weakest' or a dict {{class: rows}}; got "
            f"{type(target).__name__}"
        )
    return {c: n for c, n in add.items() if n > 0}


def _cv_f1(
    ds: Dataset,
    ids: np.ndarray,
    labels: np.ndarray,
    classes: list[Any],
    *,
    features: Sequence[str] | None,
    model: Any,
    cv: int,
    n_jobs: int | None,
    random_state: int | None,
    progress: bool,
) -> dict[Any, float]:
    """Per-class F1 of out-of-sample predictions (the shared cross-validation runner)."""
    from sklearn.metrics import f1_score

    from ._crossval import out_of_sample_pred_probs
    from ._tabular import dataset_design

    # through the column roles: a mixed table's Design gives the default ensemble its
    # sparse linear and gradient-boosting members (a given model reads the dense view)
    X, _ = dataset_design(ds, features)
    X = X[ds.positions(ids)]
    probs = out_of_sample_pred_probs(
        X,
        labels,
        model=model,
        cv=cv,
        n_jobs=n_jobs,
        random_state=random_state,
        progress=progress,
        classes=classes,
        desc="synthesize: F1 per class",
    )
    pred = np.asarray(classes, dtype=object)[probs.argmax(axis=1)]
    scores = f1_score(
        pd.Series(labels, dtype=object).astype(str),
        pd.Series(pred, dtype=object).astype(str),
        labels=[str(c) for c in classes],
        average=None,
        zero_division=0,
    )
    return {c: float(s) for c, s in zip(classes, scores, strict=True)}
