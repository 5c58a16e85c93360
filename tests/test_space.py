"""The scaled feature space's building blocks (``ops/_space.py``)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dcai_jupyter.ops._space import column_medians


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 40), st.integers(1, 6)),
        # few distinct values: ties at the middle; NaN and infinities as users' columns hold
        elements=st.sampled_from([0.0, -1.5, 2.0, 1e300, -np.inf, np.inf, np.nan, 3.25]),
    ),
    st.booleans(),
)
def test_column_medians_equal_numpys_bit_for_bit(X: np.ndarray, fortran: bool) -> None:
    X = np.asfortranarray(X) if fortran else X
    before = X.copy()
    with np.errstate(invalid="ignore"):  # inf - inf in a middle pair: NaN, as numpy's
        got, want = column_medians(X), np.median(X, axis=0)
    np.testing.assert_array_equal(got, want)  # NaN where numpy gives NaN
    assert np.array_equal(np.signbit(got), np.signbit(want), equal_nan=True)
    np.testing.assert_array_equal(X, before)  # the caller's matrix is not partitioned


def test_column_medians_of_empty_and_wide_shapes() -> None:
    for shape in [(0, 3), (3, 0), (1, 1)]:
        X = np.arange(np.prod(shape), dtype=float).reshape(shape)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean of an empty column
            np.testing.assert_array_equal(column_medians(X), np.median(X, axis=0))
