"""Pseudo-labels: give confidently predicted pool rows a model's label, flagged as such.

- :class:`PseudoLabel` (recorded as ``pseudo_label``): ``find(ds)`` fits a model on the
  rows a person labeled (earlier pseudo-labels are left out, so pseudo-labels never
  train the next ones), predicts the pool (rows whose label is missing) and flags the rows
  whose top probability is at least ``threshold``; ``apply`` sets their labels in one
  change with label origin ``"pseudo"`` (see ``ds.origins``).
- :class:`Unlabel` (recorded as ``unlabel``): by default every pseudo-labeled row goes
  back to the pool (its label missing again) in one change (``ds.remove_pseudo_labels()``).
  The rows themselves are kept: they are real data that a person may still label. A label
  a person gave over a pseudo-label is no longer pseudo and stays.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ..core import ChangePlan, Findings
from ._active import _labeled_mask, pool_blobs
from ._base import Operation, Selection, register
from ._pool_model import _check_model, pool_predictions, pool_steps

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = ["PSEUDO", "PseudoLabel", "Unlabel", "pseudo_label_ids"]

#: the label origin of pseudo-labels (``ds.origins["label_origin"]``)
PSEUDO = "pseudo"
#: the Findings roles of pseudo-label candidates
ROLES = {"score": "confidence", "flag": "pseudo_label", "suggestion": "predicted_label"}
COLUMNS = ["predicted_label", "confidence", "pseudo_label"]


def pseudo_label_ids(ds: Dataset) -> np.ndarray:
    """Ids of the rows whose current label is a pseudo-label, in row order."""
    origins = ds.origins
    if len(origins) == 0:
        return np.empty(0, dtype=np.int64)
    hit = np.asarray(origins.index[origins["label_origin"] == PSEUDO], dtype=np.int64)
    ids = np.asarray(ds.ids, dtype=np.int64)
    return ids[np.isin(ids, hit)]


@register
class PseudoLabel(Operation):
    """Label the pool rows a model predicts confidently, marked as pseudo-labels.

    Parameters
    ----------
    threshold
        Minimum predicted probability of the top class (in ``(0, 1]``).
    model
        A scikit-learn classifier with ``predict_proba``; ``None``: the default of
        :class:`~dcai_jupyter.ops.SuggestSamples` (a kNN vote averaged with a small
        gradient-boosting model).
    features
        Columns to use (default: the feature and text columns), read through the column
        roles (``ds.roles``): on a mixed table (categories, text, dates, missing values)
        the model sees the dense view of the mixed-table encoding, identifier columns left
        out.
    random_state
        Seed of the model.
    progress
        Show a progress bar while the model fits (large data only).

    Notes
    -----
    Findings (action ``"relabel"``): every pool row, with ``predicted_label``,
    ``confidence`` (the score) and ``pseudo_label`` (the flag: ``confidence >=
    threshold``).
    """

    name: ClassVar[str] = "pseudo_label"
    change_op: ClassVar[str] = "pseudo_label"
    action: ClassVar[str] = "relabel"

    def __init__(
        self,
        *,
        threshold: float = 0.95,
        model: Any = None,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
        progress: bool = True,
    ) -> None:
        self.threshold = threshold
        self.model = model
        self.features = features
        self.random_state = random_state
        self.progress = progress

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small cases for ``tests/test_operations.py``: a pool beside labeled blobs."""
        from sklearn.linear_model import LogisticRegression

        df = pool_blobs()
        return [
            {
                "frame": df,
                "dataset": {"label": "label"},
                "operation": cls(threshold=0.9, random_state=0, progress=False),
                "options": {"reason": "conformance"},
                "name": "default model",
            },
            {
                "frame": df,
                "dataset": {"label": "label"},
                "operation": cls(
                    threshold=0.8,
                    model=LogisticRegression(C=0.5, max_iter=500),
                    features=["a", "b"],
                    progress=False,
                ),
                "name": "estimator and features",
            },
        ]

    def _find(self, ds: Dataset) -> Findings:
        from ._base import STAGE_BAR_ROWS
        from ._progress import progress_bar
        from ._tabular import dataset_dense

        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not 0.0 < float(t) <= 1.0:
            raise ValueError(f"threshold must be a probability in (0, 1]; got {t!r}")
        _check_model(self.model)
        labeled = _labeled_mask(ds)
        pool = ~labeled
        if not pool.any():
            raise ValueError(
                "the pool is empty: there is no unlabeled row to pseudo-label. Add rows "
                "without a label with ds.add(rows) to form a pool"
            )
        ids = np.asarray(ds.ids)
        # Only labels a person gave train the model: pseudo-labels never breed pseudo-labels.
        train = labeled & ~np.isin(ids, pseudo_label_ids(ds))
        if not train.any():
            raise ValueError("no row has a label a person gave: label some pool rows first")
        show = bool(self.progress) and len(ds) >= STAGE_BAR_ROWS
        # one line: the features, the fit, each block of the pool
        steps = 1 + pool_steps(int(pool.sum()))
        with progress_bar(total=steps, desc="pseudo labels", disable=not show) as bar:
            bar.set_postfix_str("features")
            # read through the column roles: on a mixed table the dense view of its encoding
            # (missing values with an indicator, categories one-hot or by frequency, text)
            X, used = dataset_dense(ds, self.features)
            labels = np.asarray(ds.column(ds.label), dtype=object)[train]
            bar.update(1)
            bar.set_postfix_str("model")
            probs, cls = pool_predictions(
                X[train],
                labels,
                X[pool],
                model=self.model,
                classes=list(ds.classes),
                random_state=self.random_state,
                bar=bar,
            )
        best = probs.argmax(axis=1)
        conf = probs.max(axis=1)
        frame = pd.DataFrame(index=pd.Index(ids[pool], name="sample_id"))
        named = np.empty(len(cls), dtype=object)
        named[:] = cls
        frame["predicted_label"] = pd.Series(named[best], index=frame.index, dtype=object)
        frame["confidence"] = conf
        frame["pseudo_label"] = conf >= float(t)
        order = np.lexsort((frame.index.to_numpy(), -conf))
        out = frame.iloc[order][COLUMNS]
        out.attrs["features"] = [str(c) for c in used]
        return Findings(
            out,
            op=self.name,
            roles=ROLES,
            action=self.action,
            params=self.json_params(),
            version=int(ds.version),
        )

    def _plan(
        self, ds: Dataset, findings: Findings | None, plan: ChangePlan, select: Selection
    ) -> dict[str, Any]:
        """Label the pool rows predicted with probability >= ``threshold``: one recorded change.

        The labels carry label origin ``"pseudo"`` (``ds.origins``); a model fit on the
        labels people gave predicts them. ``ds.remove_pseudo_labels()`` takes them all
        back.

        Returns
        -------
        int
            The new version (unchanged when no row is confident enough).
        """
        assert findings is not None
        if findings.version is not None and findings.version != ds.version:
            raise ValueError(
                f"these findings were computed at version {findings.version}; the dataset is "
                f"at {ds.version}. Run pseudo_label again on the current data"
            )
        flagged = findings.flagged
        if len(flagged) == 0:
            return {"n_pseudo": 0}
        plan.relabel(flagged.ids, list(flagged.frame["predicted_label"]), origin=PSEUDO)
        return {"n_pseudo": len(flagged)}


@register
class Unlabel(Operation):
    """Put labeled rows back into the pool (label missing), as one change.

    ``Unlabel()`` takes back every pseudo-label (what ``ds.remove_pseudo_labels()`` does);
    ``Unlabel(ids=[...], label_origin=None)`` takes back the labels of those rows, whoever
    gave them. Rows keep their ids and features, so a person can still label them; ``undo``
    brings the labels (and their origin) back.

    Parameters
    ----------
    ids
        The rows to consider (default: every row). Rows already in the pool are skipped.
    label_origin
        Only labels of this origin (default ``"pseudo"``); ``None``: any label.
    """

    name: ClassVar[str] = "unlabel"
    change_op: ClassVar[str] = "unlabel"
    action: ClassVar[str] = "review"
    needs_findings: ClassVar[bool] = False
    selection_params: ClassVar[tuple[str, ...]] = ("ids",)

    def __init__(
        self, *, ids: Sequence[int] | None = None, label_origin: str | None = PSEUDO
    ) -> None:
        self.ids = ids
        self.label_origin = label_origin

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Base data holds no pseudo-labels: the example takes back labels by id."""
        df = pd.DataFrame({"x": np.arange(12.0), "label": ["ant", "bee", "cat"] * 4})
        return [
            {
                "frame": df,
                "dataset": {"label": "label"},
                "operation": cls(ids=[0, 4, 5, 9], label_origin=None),
                "options": {"reason": "conformance"},
            }
        ]

    def _targets(self, ds: Dataset) -> np.ndarray:
        all_ids = np.asarray(ds.ids)
        if self.ids is None:
            ids = all_ids
        else:
            ids = np.asarray([int(i) for i in self.ids], dtype=np.int64)
            ds.positions(ids)  # KeyError naming unknown ids
        labeled = set(all_ids[_labeled_mask(ds)].tolist())
        keep = [int(i) for i in ids.tolist() if int(i) in labeled]
        if self.label_origin is not None:
            origins = ds.origins
            match = set(origins.index[origins["label_origin"] == self.label_origin].tolist())
            keep = [i for i in keep if i in match]
        return np.asarray(keep, dtype=np.int64)

    def _plan(
        self, ds: Dataset, findings: Findings | None, plan: ChangePlan, select: Selection
    ) -> dict[str, Any]:
        ids = self._targets(ds)
        if len(ids) == 0:
            return {"n_unlabeled": 0}
        plan.unlabel(ids)
        return {"n_unlabeled": len(ids)}
