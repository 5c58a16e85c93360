"""SMOTE on a mixed table: new rows of a class made column by column, each by its role.

What ``Synthesize(method="smote")`` does when a feature column is not a complete number
(categories, booleans, text, dates, missing values, embedding vectors). Like SMOTE, each
new row of a class starts from a random labeled row of that class (the *seed*), one of
its ``k`` nearest neighbours within the class and a random gap ``u`` in [0, 1); unlike
imbalanced-learn's ``SMOTENC`` the neighbours are searched in the dense view of the
mixed-table encoding (:mod:`._tabular`: skewed numerics log-transformed and standardised,
missing values imputed with an indicator, categories one-hot or by frequency, text as
TF-IDF + SVD), so a lognormal income in thousands does not decide alone who is near whom.
Then each column:

- ``numeric``, ``datetime``, ``embedding``: ``seed + u * (neighbour - seed)`` (integers
  rounded, dates in nanoseconds, vectors element-wise). Where one of the two is missing,
  the value of the nearer one (the seed when ``u < 0.5``), missing included: a missing
  value is a signal, and the class keeps its share of them;
- ``categorical`` (strings, booleans, pandas categoricals): the most frequent value among
  the seed's ``k`` neighbours, ties to the nearest (SMOTENC's rule); missing counts as a
  value;
- ``text``: the text of the nearer of the two rows. Text cannot be interpolated; leaving
  it empty would teach a model that an empty text means the synthesized class;
- date strings and other cells that are not numbers: the nearer row's value.

On complete numeric columns (no role to tell apart), :func:`smote_numeric` is
imbalanced-learn's ``SMOTE`` itself, the same draws and arithmetic (the same rows for the
same ``random_state``), with two differences that matter on large data: the neighbours
within a class are searched for the drawn seeds only, by :mod:`._class_neighbours`
(scikit-learn's lists, ties included, from a float32 scan checked exactly; the neighbour
service's approximate graph above ``EXACT_MAX`` rows in the class), and only the rows of
the classes that get rows are read and copied (imbalanced-learn copies the whole matrix
twice and returns it stacked with the new rows).

Columns that are not features: identifiers (``ds.roles``) with integer values get new
distinct values after the largest one (an identifier stays unique), other identifiers
and columns are left missing (see :class:`~dcai_jupyter.ops.Synthesize`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SAMPLER_NAME", "smote_by_roles", "smote_numeric"]

#: the name a change records for this sampler (``change.params["sampler"]``)
SAMPLER_NAME = "SMOTE-NC on column roles"
#: roles whose values are interpolated between the seed and its neighbour
INTERPOLATED = ("numeric", "datetime", "embedding")


def _missing(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "fc":
        return np.isnan(values)
    if values.dtype.kind in "mM":
        return np.isnat(values)
    return np.asarray(pd.isna(pd.Series(values, dtype=object)), dtype=bool)


def _nearer(seed_vals: np.ndarray, nb_vals: np.ndarray, gap: np.ndarray) -> np.ndarray:
    out = np.array(seed_vals, dtype=object, copy=True)
    take = gap >= 0.5
    out[take] = nb_vals[take]
    return out


def _numeric(values: np.ndarray, seed: np.ndarray, nb: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """Interpolated numbers (float64, NaN where the nearer row is missing)."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
    a, b = x[seed], x[nb]
    out = a + gap * (b - a)
    one = np.isnan(a) ^ np.isnan(b)
    out[one] = np.where(gap[one] < 0.5, a[one], b[one])
    present = x[np.isfinite(x)]
    if len(present) and np.all(np.mod(present, 1) == 0):
        out = np.rint(out)
    return out


def _restore_numeric(out: np.ndarray, dtype: Any) -> pd.Series:
    s = pd.Series(out)
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        if np.isnan(out).any():  # cannot happen: an int column has no missing value
            return s
        return s.astype(dtype)
    try:
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s


def _datetime(values: np.ndarray, seed: np.ndarray, nb: np.ndarray, gap: np.ndarray) -> np.ndarray:
    s = pd.Series(values)
    ns = s.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
    ns[s.isna().to_numpy()] = np.nan
    a, b = ns[seed], ns[nb]
    out = a + gap * (b - a)
    one = np.isnan(a) ^ np.isnan(b)
    out[one] = np.where(gap[one] < 0.5, a[one], b[one])
    res = np.full(len(out), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = np.isfinite(out)
    res[ok] = np.rint(out[ok]).astype(np.int64).astype("datetime64[ns]")
    return res


def _embedding(values: np.ndarray, seed: np.ndarray, nb: np.ndarray, gap: np.ndarray) -> np.ndarray:
    out = np.empty(len(seed), dtype=object)
    for i, (a, b, u) in enumerate(zip(values[seed], values[nb], gap, strict=True)):
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape:
            va, vb = a.astype(np.float64), b.astype(np.float64)
            out[i] = (va + u * (vb - va)).astype(a.dtype if a.dtype.kind == "f" else np.float64)
        else:
            out[i] = a if u < 0.5 else b
    return out


def _majority(values: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """The most frequent value among each row of ``neighbours`` (ties: the nearest)."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    nb_codes = codes[neighbours]  # (m, k), nearest first
    m, k = nb_codes.shape
    counts = np.zeros((m, len(uniques)), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(m), k), nb_codes.ravel()), 1)
    top = counts.max(axis=1)
    # the first neighbour (nearest first) whose value has the top count
    hit = counts[np.arange(m)[:, None], nb_codes] == top[:, None]
    first = nb_codes[np.arange(m), hit.argmax(axis=1)]
    return np.asarray(uniques, dtype=object)[first]


def _restore_categorical(values: np.ndarray, dtype: Any) -> pd.Series:
    s = pd.Series(values, dtype=object)
    if isinstance(dtype, pd.CategoricalDtype):
        return s.astype(dtype)
    if pd.api.types.is_bool_dtype(dtype):
        if s.isna().any():
            return s.astype("boolean") if str(dtype) == "boolean" else s
        return s.astype(dtype)
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return s
    try:
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s


def smote_by_roles(
    frame: pd.DataFrame,
    roles: Mapping[str, str],
    labels: np.ndarray,
    add: Mapping[Any, int],
    *,
    k_neighbors: int,
    random_state: int | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """New rows per class by SMOTE with each column handled by its role (module docstring).

    Parameters
    ----------
    frame
        The labeled rows' feature columns.
    roles
        Column -> role (``numeric``, ``categorical``, ``text``, ``datetime``,
        ``embedding``) for every column of ``frame``.
    labels
        The class of each row of ``frame``.
    add
        ``{class: rows to make}``; every such class has more than ``k_neighbors`` rows.
    k_neighbors
        Neighbours within the class the seed is interpolated towards.
    random_state
        Seed: the same input gives the same rows.

    Returns
    -------
    rows : pd.DataFrame
        The new rows' feature columns (the dtypes of ``frame`` where the values fit them).
    classes : np.ndarray of object
        The class of each new row.
    """
    from ._space import nearest
    from ._tabular import design_from_frame

    design_roles = {c: ("categorical" if r == "categorical" else r) for c, r in roles.items()}
    bools = [c for c in frame.columns if pd.api.types.is_bool_dtype(frame[c].dtype)]
    for c in bools:  # booleans are values to vote on, not numbers to interpolate
        design_roles[c] = "categorical"
    design = design_from_frame(frame, design_roles, random_state=0)
    Z = design.dense
    rng = np.random.default_rng(random_state)
    labels = np.asarray(labels, dtype=object)
    seeds, nbs, gaps, nb_lists, out_cls = [], [], [], [], []
    for cls, n_new in add.items():
        rows = np.flatnonzero(pd.Series(labels, dtype=object) == cls)
        k = int(min(k_neighbors, len(rows) - 1))
        _, idx = nearest(Z[rows], k)  # positions within `rows`, nearest first
        seed = rng.integers(0, len(rows), n_new)
        pick = rng.integers(0, k, n_new)
        seeds.append(rows[seed])
        nbs.append(rows[idx[seed, pick]])
        gaps.append(rng.random(n_new))
        nb_lists.append(rows[idx[seed]])  # each new row's k neighbours, nearest first
        out_cls.extend([cls] * n_new)
    seed_rows = np.concatenate(seeds)
    nb_rows = np.concatenate(nbs)
    gap = np.concatenate(gaps)
    data: dict[str, pd.Series] = {}
    for c in frame.columns:
        values = frame[c].to_numpy()
        dtype = frame[c].dtype
        role = design_roles[c]
        if role == "numeric":
            data[c] = _restore_numeric(_numeric(values, seed_rows, nb_rows, gap), dtype)
        elif role == "datetime" and pd.api.types.is_datetime64_any_dtype(dtype):
            data[c] = pd.Series(_datetime(values, seed_rows, nb_rows, gap)).astype(dtype)
        elif role == "embedding":
            data[c] = pd.Series(_embedding(values, seed_rows, nb_rows, gap), dtype=object)
        elif role == "categorical":
            voted = np.concatenate([_majority(values, nb) for nb in nb_lists])
            data[c] = _restore_categorical(voted, dtype)
        else:  # text, date strings, anything else: the nearer row's value
            vals = _nearer(values[seed_rows], values[nb_rows], gap)
            data[c] = _restore_categorical(vals, dtype)
    rows = pd.DataFrame(data)
    return rows, np.asarray(out_cls, dtype=object)


def smote_numeric(
    X: np.ndarray,
    codes: np.ndarray,
    add: Mapping[int, int],
    *,
    k_neighbors: int,
    random_state: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """imbalanced-learn's ``SMOTE`` on complete numeric rows, the drawn seeds searched only.

    Per class (in code order), a fresh ``check_random_state(random_state)`` draws which of
    the ``len(rows) * k`` (seed, neighbour) slots each new row starts from and its gap
    ``u`` in [0, 1); the new row is ``seed + u * (neighbour - seed)``: imbalanced-learn's
    ``_make_samples``, with its neighbour lists (:func:`._class_neighbours.sklearn_neighbours`,
    ties broken as there), so the rows equal ``SMOTE(...).fit_resample``'s new rows. The
    slots are drawn first (their count is known before any search), so only the drawn seed
    rows are searched (up to ``EXACT_MAX`` rows in the class; above, the neighbour
    service's approximate graph, whose rows are SMOTE's but not always imbalanced-learn's).

    Parameters
    ----------
    X : np.ndarray of shape (n, d), float64
        The rows of the classes in ``add`` (others may be present; they are not read).
    codes : np.ndarray of int, shape (n,)
        Each row's class code.
    add : mapping
        ``{class code: rows to make}``; each such class has more than ``k_neighbors`` rows.
    k_neighbors : int
        Neighbours within the class a new row is interpolated towards.
    random_state : int, optional
        Seed (``None``: numpy's global generator, as imbalanced-learn).

    Returns
    -------
    new_X : np.ndarray of shape (sum(add.values()), d)
    new_codes : np.ndarray of int
    """
    from sklearn.utils import check_random_state

    from ._class_neighbours import sklearn_neighbours
    from ._neighbours import EXACT_MAX
    from ._space import nearest

    parts, labels = [], []
    for c in sorted(add):
        n_new = int(add[c])
        if n_new <= 0:
            continue
        Xc = X[codes == c]
        k = int(min(k_neighbors, len(Xc) - 1))
        rs = check_random_state(random_state)
        slot = rs.randint(low=0, high=len(Xc) * k, size=n_new)
        steps = rs.uniform(size=n_new)[:, np.newaxis]
        rows, cols = np.floor_divide(slot, k), np.mod(slot, k)
        if len(Xc) <= EXACT_MAX:
            # only the drawn seeds need their neighbours (about 63 % of the class when
            # it is doubled): imbalanced-learn's lists of those rows, not of every row
            seeds, at = np.unique(rows, return_inverse=True)
            nns = sklearn_neighbours(Xc, seeds, k)
            neighbour = nns[np.asarray(at).ravel(), cols]
        else:
            _, nns = nearest(Xc, k)
            neighbour = nns[rows, cols]
        base = Xc[rows]
        parts.append((base + steps * (Xc[neighbour] - base)).astype(Xc.dtype))
        labels.append(np.full(n_new, c, dtype=np.asarray(codes).dtype))
    if not parts:
        return np.empty((0, X.shape[1]), dtype=X.dtype), np.empty(0, dtype=np.int64)
    return np.vstack(parts), np.concatenate(labels)
