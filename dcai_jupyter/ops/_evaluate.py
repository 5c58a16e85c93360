"""``ds.evaluate()``: cross-validated model quality of the current data, recorded per version.

The point of data-centric work is to see which data change moved the model: the scores are
computed with the one cross-validation runner every model-based operation uses
(:func:`~dcai_jupyter.ops.out_of_sample_pred_probs`) and written to the history's metrics
table at the version they were measured on (``ds.history.metrics``).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._crossval import out_of_sample_pred_probs
from ._params import ParamError, to_json
from ._tabular import dataset_design
from ._validation import encode_labels

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = ["Evaluation", "evaluate_dataset", "metric_name"]

#: datasets already told that rows made by operations are cross-validated like real ones
_TOLD_DERIVED: weakref.WeakSet[Any] = weakref.WeakSet()


def metric_name(cls: Any) -> str:
    """The metric name of a class's F1 score: ``f1[<class>]``."""
    return f"f1[{cls}]"


@dataclass(frozen=True)
class Evaluation:
    """Cross-validated scores of one version of a dataset (also in ``ds.history.metrics``).

    Attributes
    ----------
    version
        The dataset version evaluated.
    accuracy, macro_f1
        Out-of-fold accuracy and the unweighted mean of the per-class F1 scores.
    per_class
        By class: ``f1``, ``precision``, ``recall``, ``support`` (labeled samples).
    n_samples, n_unlabeled
        Labeled rows evaluated; unlabeled pool rows left out.
    params
        What was measured and how (model, folds, seed, features), as recorded.
    """

    version: int
    accuracy: float
    macro_f1: float
    per_class: pd.DataFrame = field(repr=False)
    n_samples: int
    n_unlabeled: int
    params: dict[str, Any] = field(repr=False)

    @property
    def metrics(self) -> dict[str, float]:
        """The recorded metrics: ``accuracy``, ``macro_f1`` and ``f1[<class>]`` per class."""
        out = {"accuracy": self.accuracy, "macro_f1": self.macro_f1}
        for cls, f1 in zip(self.per_class.index, self.per_class["f1"], strict=True):
            out[metric_name(cls)] = float(f1)
        return out

    def __repr__(self) -> str:
        return (
            f"Evaluation(version={self.version}, accuracy={self.accuracy:.4f}, "
            f"macro_f1={self.macro_f1:.4f}, n_samples={self.n_samples}, "
            f"cv={self.params.get('cv')})"
        )

    def _repr_html_(self) -> str:
        import html

        return f"<p>{html.escape(repr(self))}</p>" + self.per_class.to_html(
            escape=True, float_format=lambda v: f"{v:.4f}"
        )


def _model_params(model: Any) -> dict[str, Any]:
    if model is None:
        return {"model": "default ensemble (kNN vote + HistGradientBoosting)"}
    try:
        return {"model": to_json(model)}
    except ParamError:
        return {"model": type(model).__name__}


def evaluate_dataset(
    ds: Dataset,
    *,
    model: Any = None,
    cv: int = 5,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    progress: bool = True,
    features: Sequence[str] | None = None,
    record: bool = True,
) -> Evaluation:
    """Cross-validated accuracy, macro F1 and per-class F1 of ``ds`` at its current version.

    Parameters
    ----------
    ds
        The dataset. Rows without a label (an unlabeled pool) are left out.
    model
        A scikit-learn classifier with ``predict_proba`` (cloned per fold); ``None``: the
        default ensemble of :func:`~dcai_jupyter.ops.out_of_sample_pred_probs`.
    cv, n_jobs, random_state, progress
        Stratified folds (every class needs ``cv`` labeled samples), joblib workers, seed,
        progress bar.
    features
        Columns to use (default: the feature and text columns, as the other operations).
    record
        Write the metrics to ``ds.history`` at the evaluated version (default).

    Returns
    -------
    Evaluation

    Raises
    ------
    ValueError
        An empty dataset, no labeled rows, a single class, a class with fewer than ``cv``
        labeled samples (the message says which ``cv`` would work), unusable features.
    """
    from sklearn.metrics import precision_recall_fscore_support

    version = int(ds.version)
    labels = np.asarray(ds.column(ds.label), dtype=object)
    if len(labels) == 0:
        raise ValueError("the dataset is empty: there is nothing to evaluate")
    labeled = ~pd.isna(pd.Series(labels, dtype=object)).to_numpy()
    if not labeled.any():
        raise ValueError("no sample has a label: label some samples of the pool first (ds.relabel)")
    y = labels[labeled]
    derived = ds.origins
    n_derived = int(derived["origin"].notna().sum() + (derived["label_origin"].notna()).sum())
    if n_derived and ds not in _TOLD_DERIVED:
        # expected after synthesize/augment/pseudo_label: said once per dataset, as text (a
        # warning box on every evaluation of the same data says nothing new)
        _TOLD_DERIVED.add(ds)
        print(
            f"note: {n_derived} rows or labels were made by operations (synthetic, augmented, "
            "pseudo-labeled; see ds.origins). Cross-validation scores them like real samples, "
            "so its scores can be optimistic: compare on held-out original data, or evaluate "
            "before adding them. (Said once per dataset; params['n_derived'] of each "
            "evaluation has the count.)"
        )
    seen = set(pd.unique(pd.Series(y, dtype=object)).tolist())
    classes = [c for c in ds.classes if c in seen]
    codes, classes = encode_labels(y, classes)
    X, used = dataset_design(ds, features)
    probs = out_of_sample_pred_probs(
        X[labeled],
        y,
        model=model,
        cv=cv,
        n_jobs=n_jobs,
        random_state=random_state,
        progress=progress,
        classes=classes,
        desc="evaluate",
    )
    pred = probs.argmax(axis=1)
    k = len(classes)
    precision, recall, f1, support = precision_recall_fscore_support(
        codes, pred, labels=np.arange(k), zero_division=0
    )
    per_class = pd.DataFrame(
        {
            "f1": np.asarray(f1, dtype=np.float64),
            "precision": np.asarray(precision, dtype=np.float64),
            "recall": np.asarray(recall, dtype=np.float64),
            "support": np.asarray(support, dtype=np.int64),
        },
        index=pd.Index(classes, name="class"),
    )
    params: dict[str, Any] = {
        **_model_params(model),
        "cv": int(cv),
        "random_state": random_state,
        "features": [str(c) for c in used],
        "n_samples": int(labeled.sum()),
        "n_unlabeled": int((~labeled).sum()),
        "n_derived": n_derived,
    }
    result = Evaluation(
        version=version,
        accuracy=float((pred == codes).mean()),
        macro_f1=float(per_class["f1"].mean()),
        per_class=per_class,
        n_samples=int(labeled.sum()),
        n_unlabeled=int((~labeled).sum()),
        params=params,
    )
    if record:
        ds.history.record_metrics(version, result.metrics, {"evaluate": params})
    return result
