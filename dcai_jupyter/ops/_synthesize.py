"""Synthesize data: new labeled rows for rare or weak classes (SMOTE, or your generator).

``Synthesize`` is the operation behind ``ds.synthesize()``. It interpolates new rows of
chosen classes in the space of the feature columns and adds them as one recorded change,
each row tagged with its origin (``synthetic:smote``, or ``synthetic:<generator>``) so the
grid can show and filter them and ``ds.remove(ds.ids_with_origin("synthetic"))`` takes them
all out again in one change.

How many rows per class (``target``):

- ``"balance"``: every class up to the size of the largest one;
- ``{class: n}``: class ``class`` up to ``n`` rows in total (classes not named get none);
- ``"weakest"``: the classes the model gets most wrong. Per-class F1 comes from
  out-of-sample predictions of the shared cross-validation runner
  (:func:`~dcai_jupyter.ops.out_of_sample_pred_probs`); each class whose F1 is below the
  mean over classes gets ``round(n_largest * (F1_best - F1_c) / F1_best)`` new rows, so the
  weaker a class, the more rows, whether it is rare or not.

Methods:

- ``"smote"``: on complete numeric feature columns, imbalanced-learn's ``SMOTE`` (integer
  columns interpolated and rounded; made by :func:`._smote_roles.smote_numeric`, the same
  rows, with the drawn seeds' neighbours only searched and only the resampled classes
  read). On a mixed table (categories, booleans, text, dates, missing values, embedding
  vectors; read through ``ds.roles``), SMOTE with each column handled by its role
  (:mod:`._smote_roles`): neighbours within the class are found in the dense view
  of the mixed-table encoding, numbers, dates and vectors are interpolated (a
  missing value is taken from the nearer row, so the class keeps its share of them),
  categories take the most frequent value among the seed's neighbours (SMOTENC's rule),
  and text is copied from the nearer of the two rows (text cannot be interpolated; an
  empty text on synthetic rows only would tell a model which rows are made). Text columns
  are features by default there; a dataset whose only features are text or images cannot
  be interpolated: that is an error pointing to ``ds.augment``, as is an image column
  among ``features=``.
- an imbalanced-learn over-sampler instance (``ADASYN(...)``, ``BorderlineSMOTE(...)``):
  its ``sampling_strategy`` and ``random_state`` are set from ``target`` and
  ``random_state``; it needs complete numeric (``SMOTENC``-like samplers: and
  categorical) columns: text, images and missing values are errors naming them.

Columns that are not features are left empty in synthetic rows (e.g. a display image),
except identifier columns (``ds.roles``) of integers, which continue after their largest
value so that every row keeps a distinct identifier.
- a module-level callable ``generator(X, y, counts, *, random_state, **method_params)``: ``X``
  the labeled rows' non-label columns (a DataFrame), ``y`` their labels (a Series),
  ``counts`` the rows to make per class (``{class: n}``); it returns a DataFrame with the
  columns of ``X`` plus the label column, one row per new sample. It is recorded by its
  qualified name (and ``method_params``) so recipe replay can call it again.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from ._base import Operation, Selection, register
from ._synthesis_counts import (
    _class_counts,
    _class_name,
    _cv_f1,
    _labeled,
    _plain,
    synthesis_counts,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..core import ChangePlan, Dataset, Findings

__all__ = ["Synthesize", "synthesis_counts"]


# ---------------------------------------------------------------------------- columns
def _kind(ds: Dataset, col: str) -> str:
    """``continuous``, ``integer``, ``categorical``, or ``text``/``image``/``array``/``other``."""
    if col == ds.image_column:
        return "image"
    if col == ds.text_column:
        return "text"
    s = ds.df[col]
    dt = s.dtype
    if pd.api.types.is_bool_dtype(dt) or isinstance(dt, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_integer_dtype(dt):
        return "integer"
    if pd.api.types.is_float_dtype(dt):
        return "continuous"
    present = s[s.notna()]
    if len(present) and all(isinstance(v, np.ndarray) for v in present):
        return "array"
    if all(isinstance(v, (str, bool, np.bool_)) for v in present):
        if len(present) and pd.api.types.is_string_dtype(present) and present.nunique() > 50:
            spaced = present.astype(str).str.contains(r"\s", regex=True).mean()
            if spaced >= 0.5:
                return "text"
        return "categorical"
    return "other"


def _empty_column(ds: Dataset, col: str, n: int) -> pd.Series:
    """``n`` values for a column synthetic rows have no value for: new distinct integers
    for an identifier of integers (after the largest present), else missing values."""
    dt = ds.df[col].dtype
    roles = getattr(ds, "roles", {})
    if roles.get(col) == "id" and isinstance(dt, np.dtype) and dt.kind in "iu":
        start = int(ds.df[col].max()) + 1 if len(ds.df) else 0
        return pd.Series(np.arange(start, start + n), dtype=dt)
    if isinstance(dt, np.dtype) and dt.kind in "biu":
        raise ValueError(
            f"column {col!r} is not a feature column and holds {dt} values, which cannot be "
            "missing: synthetic rows would have no value for it. Make it a feature "
            "(features=[...]) or store it as a nullable type (df[col].astype('Int64'))"
        )
    return pd.Series([None] * n, dtype=object).astype(dt)


def _restore(ds: Dataset, col: str, kind: str, values: np.ndarray, uniques: Any) -> pd.Series:
    dt = ds.df[col].dtype
    if kind == "categorical":
        codes = np.asarray(np.rint(values.astype(np.float64)), dtype=np.int64)
        return pd.Series(np.asarray(uniques, dtype=object)[codes], dtype=object).astype(dt)
    v = values.astype(np.float64)
    if kind == "integer":
        v = np.rint(v)
    return pd.Series(v).astype(dt)


# ---------------------------------------------------------------------------- operation
@register
class Synthesize(Operation):
    """Add synthetic labeled rows for rare or weak classes; one recorded change.

    Parameters
    ----------
    method
        ``"smote"`` (SMOTE / SMOTENC / SMOTEN from imbalanced-learn, by the feature
        columns' kinds), an imbalanced-learn over-sampler instance, or a module-level
        generator callable (see the module docstring).
    target
        ``"balance"``, ``"weakest"`` or ``{class: total rows wanted}``.
    k_neighbors
        Neighbours SMOTE interpolates between; every class that gets rows needs more
        labeled rows than this.
    features
        Columns to synthesize from (default: the dataset's feature columns).
    model, cv, n_jobs, progress
        For ``target="weakest"``: the classifier, folds, joblib workers and progress bar of
        the cross-validation that measures per-class F1 (``model=None``: the default
        ensemble of :func:`~dcai_jupyter.ops.out_of_sample_pred_probs`).
    random_state
        Seed: the same data and parameters give the same rows.
    method_params
        Extra keyword arguments of a generator callable (JSON values).
    """

    name = "synthesize"
    change_op = "synthesize"
    action = "review"
    needs_findings = False
    adds_rows = True

    def __init__(
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
    ) -> None:
        self.method = method
        self.target = target
        self.k_neighbors = k_neighbors
        self.features = features
        self.model = model
        self.cv = cv
        self.n_jobs = n_jobs
        self.progress = progress
        self.random_state = random_state
        self.method_params = method_params

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        m = self.method
        if isinstance(m, str):
            if m != "smote":
                raise ValueError(
                    f"method must be 'smote', an imbalanced-learn over-sampler or a generator "
                    f"callable; got {m!r}"
                )
        elif not (hasattr(m, "fit_resample") or callable(m)):
            raise TypeError(
                f"method must be 'smote', an imbalanced-learn over-sampler or a generator "
                f"callable; got {type(m).__name__}"
            )
        if self.method_params and not _is_generator(m):
            raise ValueError(
                "method_params is for a generator callable; pass sampler options "
                "to the sampler instance instead"
            )
        if (
            isinstance(self.k_neighbors, bool)
            or not isinstance(self.k_neighbors, (int, np.integer))
            or self.k_neighbors < 1
        ):
            raise ValueError(f"k_neighbors must be a positive integer; got {self.k_neighbors!r}")

    def _feature_columns(self, ds: Dataset) -> list[str]:
        cols = list(ds.feature_columns) if self.features is None else list(self.features)
        cols = [c for c in cols if c != ds.label]
        unknown = [c for c in cols if c not in ds.columns]
        if unknown:
            raise ValueError(
                f"feature columns {unknown} are not in the dataset; columns are {ds.columns}"
            )
        if not cols:
            shown = [c for c in (ds.image_column, ds.text_column) if c]
            if shown and not _is_generator(self.method):
                raise ValueError(
                    f"the dataset's samples are in {shown} (images or text), which SMOTE cannot "
                    "interpolate: make new rows of them with ds.augment([...]) (e.g. 'shift', "
                    "'rotate', 'token_swap'), or pass a generator callable as method="
                )
            if not shown:
                raise ValueError(
                    "the dataset has no feature column to synthesize from (only the label); "
                    "pass features=[...]"
                )
        return cols

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small cases for the operations conformance test (``tests/test_operations.py``)."""
        rng = np.random.default_rng(0)
        n = 90
        y = np.array(["common"] * 60 + ["rare"] * 30, dtype=object)
        shiftby = np.where(y == "rare", 1.5, 0.0)
        mixed = pd.DataFrame(
            {
                "a": rng.normal(size=n) + shiftby,
                "b": rng.normal(size=n) - shiftby,
                "k": rng.integers(0, 9, n).astype(np.int64),
                "color": rng.choice(["red", "green", "blue"], n),
                "y": y,
            }
        )
        # three classes; "mid" overlaps "low" (weak) though it is not the rarest
        centers = np.repeat([[0.0, 0.0], [0.6, 0.6], [4.0, 4.0]], [100, 80, 30], axis=0)
        blobs = pd.DataFrame(
            centers + rng.normal(scale=0.8, size=centers.shape), columns=["u", "v"]
        )
        blobs["label"] = np.repeat(["low", "mid", "high"], [100, 80, 30])
        from sklearn.linear_model import LogisticRegression

        return [
            {
                "frame": mixed,
                "dataset": {"label": "y"},
                "operation": cls(target="balance", random_state=0),
                "name": "SMOTENC balance",
            },
            {
                "frame": mixed[["a", "b", "y"]],
                "dataset": {"label": "y"},
                "operation": cls(target={"rare": 45}, k_neighbors=3, random_state=1),
                "name": "SMOTE dict target",
            },
            {
                "frame": blobs,
                "dataset": {"label": "label"},
                "operation": cls(
                    target="weakest",
                    model=LogisticRegression(max_iter=300),
                    cv=3,
                    progress=False,
                    random_state=0,
                ),
                "name": "weakest by cross-validated F1",
            },
        ]

    def origin(self) -> str:
        """The origin tag of the rows this operation makes (``synthetic:smote``, ...)."""
        m = self.method
        if isinstance(m, str):
            return f"synthetic:{m}"
        if hasattr(m, "fit_resample"):
            return f"synthetic:{type(m).__name__}"
        return f"synthetic:{getattr(m, '__qualname__', type(m).__name__)}"

    # ------------------------------------------------------------------ plan
    def _plan(
        self, ds: Dataset, findings: Findings | None, plan: ChangePlan, select: Selection
    ) -> dict[str, Any]:
        """Add synthetic labeled rows for rare or weak classes: one recorded change.

        Returns
        -------
        np.ndarray
            The new rows' sample ids (empty, and nothing recorded, when no class needs
            rows). They carry the origin ``synthetic:<method>`` (``ds.origins``); remove
            them all with ``ds.remove_synthetic()``.
        """
        self._check_params()
        ids, labels = _labeled(ds)
        counts = _class_counts(ds, labels)
        cols = self._feature_columns(ds)
        by_roles = self._role_columns(ds, cols)
        kinds = {c: _kind(ds, c) for c in cols}
        extra: dict[str, Any] = {"counts_before": [[_plain(c), n] for c, n in counts.items()]}
        f1 = None
        if isinstance(self.target, str) and self.target == "weakest":
            if len(counts) < 2:
                raise ValueError("target='weakest' needs at least two classes to compare")
            f1 = _cv_f1(
                ds,
                ids,
                labels,
                list(counts),
                features=self.features,
                model=self.model,
                cv=self.cv,
                n_jobs=self.n_jobs,
                random_state=self.random_state,
                progress=self.progress,
            )
            extra["f1"] = [[_plain(c), round(s, 6)] for c, s in f1.items()]
        add = synthesis_counts(counts, self.target, f1=f1)
        extra["added"] = [[_plain(c), n] for c, n in add.items()]
        if not add:
            warnings.warn(
                f"nothing to synthesize for target={self.target!r}: no class needs rows "
                f"(rows per class: {counts}); nothing is recorded",
                UserWarning,
                stacklevel=4,
            )
            return extra
        if _is_generator(self.method):
            rows, info = self._generate(ds, ids, labels, counts, add)
        elif by_roles is not None:
            rows, info = self._resample_by_roles(ds, ids, labels, counts, add, by_roles)
        else:
            rows, info = self._resample(ds, ids, labels, counts, add, cols, kinds)
        extra.update(info)
        plan.add(rows, origin=self.origin())
        return extra

    def _resample(
        self,
        ds: Dataset,
        ids: np.ndarray,
        labels: np.ndarray,
        counts: dict[Any, int],
        add: dict[Any, int],
        cols: list[str],
        kinds: dict[str, str],
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        from threadpoolctl import threadpool_limits

        bad = {c: k for c, k in kinds.items() if k in ("text", "image", "array", "other")}
        if bad:
            detail = ", ".join(f"{c!r} ({k})" for c, k in bad.items())
            raise ValueError(
                f"SMOTE interpolates numeric and categorical columns; it cannot make values for "
                f"{detail}. Leave them out with features=[...], make new rows of text or "
                "images with ds.augment(...), or pass a generator callable as method="
            )
        self._check_class_sizes(counts, add)
        codes, classes = pd.factorize(pd.Series(labels, dtype=object))
        cls_list = [_plain(c) for c in classes]
        pos = ds.positions(ids)
        # plain SMOTE on numbers (ours, imbalanced-learn's rows): only the rows of the
        # classes that get rows are read; a sampler sees every labeled row
        own = self._plain_smote(kinds)
        if own:
            wanted = np.isin(codes, [cls_list.index(c) for c in add])
            pos, codes = pos[wanted], codes[wanted]
        frame = ds.df.iloc[pos]
        blocks, uniques, cat_idx = [], {}, []
        for j, c in enumerate(cols):
            s = frame[c]
            if kinds[c] == "categorical":
                codes, uq = pd.factorize(s.astype(object), use_na_sentinel=False)
                uniques[c] = uq
                blocks.append(codes.astype(np.float64))
                cat_idx.append(j)
            else:
                v = s.to_numpy(dtype=np.float64, na_value=np.nan)
                if not np.isfinite(v).all():
                    raise ValueError(
                        f"column {c!r} has {int((~np.isfinite(v)).sum())} missing or infinite "
                        "values among labeled rows; SMOTE cannot interpolate them. Fill them "
                        f"first (ds.update(ids, {c!r}, values)) or leave the column out "
                        "with features=[...]"
                    )
                blocks.append(v)
        X = np.column_stack(blocks)
        if own:
            from ._smote_roles import smote_numeric

            with threadpool_limits(limits=1):
                new_X, new_y = smote_numeric(
                    X,
                    codes,
                    {cls_list.index(c): n for c, n in add.items()},
                    k_neighbors=int(self.k_neighbors),
                    random_state=self.random_state,
                )
            sampler_name = "SMOTE"
        else:
            strategy = {cls_list.index(c): counts[c] + n for c, n in add.items()}
            sampler, sampler_name = self._sampler(len(cat_idx), len(cols), cat_idx, strategy)
            with threadpool_limits(limits=1), warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                X_res, y_res = sampler.fit_resample(X, codes)
            new_X, new_y = X_res[len(X) :], np.asarray(y_res)[len(X) :]
        n = len(new_X)
        data: dict[str, pd.Series] = {}
        for c in ds.columns:
            if c == ds.label:
                lab = pd.Series(np.asarray(cls_list, dtype=object)[new_y], dtype=object)
                data[c] = lab.astype(ds.df[c].dtype) if _castable(ds, c) else lab
            elif c in cols:
                j = cols.index(c)
                data[c] = _restore(ds, c, kinds[c], new_X[:, j], uniques.get(c))
            else:
                data[c] = _empty_column(ds, c, n)
        rows = pd.DataFrame(data)
        info = {
            "sampler": sampler_name,
            "categorical": [cols[j] for j in cat_idx],
            "features": cols,
        }
        return rows, info

    def _plain_smote(self, kinds: dict[str, str]) -> bool:
        """Whether ``method="smote"`` meets numbers only: imbalanced-learn's ``SMOTE``,
        made here (:func:`._smote_roles.smote_numeric`: the same rows, the neighbours from
        the service, only the resampled classes copied)."""
        return isinstance(self.method, str) and all(k != "categorical" for k in kinds.values())

    def _check_class_sizes(self, counts: dict[Any, int], add: dict[Any, int]) -> None:
        few = {c: counts[c] for c in add if counts[c] <= self.k_neighbors}
        if few:
            detail = ", ".join(f"class {_class_name(c)} has {n}" for c, n in few.items())
            fewest = min(few.values())
            fix = (
                f"Pass k_neighbors={fewest - 1} or fewer, add"
                if fewest > 1
                else "SMOTE needs at least 2 rows of a class to interpolate: add"
            )
            raise ValueError(
                f"k_neighbors={self.k_neighbors} is larger than what exists: SMOTE needs more "
                f"labeled rows of a class than k_neighbors, and {detail}. {fix} real rows of "
                "those classes, or leave them out of target"
            )

    def _role_columns(self, ds: Dataset, cols: list[str]) -> dict[str, str] | None:
        """``{column: role}`` when ``method="smote"`` works by column roles (a mixed table),
        with the text columns added by default; ``None`` for imbalanced-learn's ``SMOTE``
        (complete numbers only), a sampler instance or a generator."""
        if not (isinstance(self.method, str) and self.method == "smote"):
            return None
        roles_all = getattr(ds, "roles", {})
        if self.features is None:
            cols = cols + [t for t in getattr(ds, "text_columns", []) if t not in cols]
        out: dict[str, str] = {}
        for c in cols:
            r = roles_all.get(c, "numeric")
            if r in ("id", "ignored", "label"):  # listed in features=: a value like any other
                kind = np.asarray(ds.column(c)).dtype.kind
                r = "numeric" if kind in "iuf" else "categorical"
            out[c] = r
        images = [c for c, r in out.items() if r == "image"]
        if images:
            raise ValueError(
                f"SMOTE cannot interpolate images ({', '.join(repr(c) for c in images)} "
                "(image)): leave them out with features=[...], make new image rows with "
                "ds.augment(...), or pass a generator callable as method="
            )
        plain = all(
            r == "numeric"
            and (dt := ds.df[c].dtype).kind in "iuf"
            and not pd.api.types.is_bool_dtype(dt)
            and not ds.df[c].isna().any()
            for c, r in out.items()
        )
        if plain or not out:
            return None
        if all(r == "text" for r in out.values()):
            return None  # nothing to interpolate: the error of _feature_columns / _resample
        return out

    def _resample_by_roles(
        self,
        ds: Dataset,
        ids: np.ndarray,
        labels: np.ndarray,
        counts: dict[Any, int],
        add: dict[Any, int],
        roles: dict[str, str],
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        from threadpoolctl import threadpool_limits

        from ._smote_roles import SAMPLER_NAME, smote_by_roles

        self._check_class_sizes(counts, add)
        cols = list(roles)
        frame = ds.df.iloc[ds.positions(ids)][cols].reset_index(drop=True)
        with threadpool_limits(limits=1):
            new, new_cls = smote_by_roles(
                frame,
                roles,
                labels,
                add,
                k_neighbors=int(self.k_neighbors),
                random_state=self.random_state,
            )
        n = len(new)
        data: dict[str, pd.Series] = {}
        for c in ds.columns:
            if c == ds.label:
                lab = pd.Series(new_cls, dtype=object)
                data[c] = lab.astype(ds.df[c].dtype) if _castable(ds, c) else lab
            elif c in roles:
                data[c] = new[c]
            else:
                data[c] = _empty_column(ds, c, n)
        rows = pd.DataFrame(data)
        categorical = [
            c for c, r in roles.items()
            if r == "categorical" or pd.api.types.is_bool_dtype(ds.df[c].dtype)
        ]  # fmt: skip
        info = {
            "sampler": SAMPLER_NAME,
            "categorical": categorical,
            "text": [c for c, r in roles.items() if r == "text"],
            "features": cols,
        }
        return rows, info

    def _sampler(
        self, n_cat: int, n_cols: int, cat_idx: list[int], strategy: dict[int, int]
    ) -> tuple[Any, str]:
        from sklearn.base import clone

        m = self.method
        if hasattr(m, "fit_resample"):
            sampler = clone(m)
            sampler.set_params(sampling_strategy=strategy, random_state=self.random_state)
            if n_cat and "categorical_features" not in sampler.get_params():
                raise ValueError(
                    f"{type(m).__name__} does not handle categorical columns; use "
                    "method='smote' (SMOTENC) or leave them out with features=[...]"
                )
            return sampler, type(m).__name__
        from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC

        kw = {
            "sampling_strategy": strategy,
            "k_neighbors": self.k_neighbors,
            "random_state": self.random_state,
        }
        if n_cat == 0:
            return SMOTE(**kw), "SMOTE"
        if n_cat == n_cols:
            return SMOTEN(**kw), "SMOTEN"
        return SMOTENC(categorical_features=cat_idx, **kw), "SMOTENC"

    def _generate(
        self,
        ds: Dataset,
        ids: np.ndarray,
        labels: np.ndarray,
        counts: dict[Any, int],
        add: dict[Any, int],
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        gen = cast(Callable[..., Any], self.method)
        name = getattr(gen, "__qualname__", type(gen).__name__)
        frame = ds.df.iloc[ds.positions(ids)]
        X = frame.drop(columns=[ds.label])
        y = frame[ds.label]
        out = gen(
            X.copy(),
            y.copy(),
            dict(add),
            random_state=self.random_state,
            **dict(self.method_params or {}),
        )
        if not isinstance(out, pd.DataFrame):
            raise TypeError(f"generator {name} must return a DataFrame; got {type(out).__name__}")
        want = set(ds.columns)
        missing, extra = sorted(want - set(out.columns)), sorted(set(out.columns) - want)
        if missing or extra:
            raise ValueError(
                f"generator {name} changed the schema: its rows must have exactly the "
                f"dataset's columns; missing {missing}, extra {extra}"
            )
        got = pd.Series(out[ds.label], dtype=object).value_counts()
        got_counts = {_plain(k): int(v) for k, v in got.items()}
        if got_counts != {c: n for c, n in add.items()}:
            raise ValueError(
                f"generator {name} returned rows per class {got_counts}; it was asked for "
                f"{dict(add)}"
            )
        for c in ds.columns:
            if c == ds.label:
                continue
            miss = out[c].isna().to_numpy()
            if miss.any():
                raise ValueError(
                    f"generator {name} returned {int(miss.sum())} missing (NaN/None) values in "
                    f"column {c!r}; return a value for every cell"
                )
        rows = out.reset_index(drop=True)[ds.columns]
        return rows, {"generator": name}


def _is_generator(m: Any) -> bool:
    return callable(m) and not isinstance(m, str) and not hasattr(m, "fit_resample")


def _castable(ds: Dataset, col: str) -> bool:
    dt = ds.df[col].dtype
    return not (isinstance(dt, np.dtype) and dt.kind == "O")
