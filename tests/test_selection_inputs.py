"""Selections as people pass them: a list, an array, an Index, a Series, a boolean mask.

Every method that takes sample ids accepts them all (a new user's ``ids=ds.df.index[:40]``
raised "Index cannot be stored as JSON" in ``augment``), and a bad mask is a clear error
that changes nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj


def _ds() -> dj.Dataset:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"x": rng.normal(size=30), "y": rng.normal(size=30), "label": ["a", "b", "c"] * 10}
    )
    return dj.Dataset(df, label="label", history=":memory:")


def _forms(ds: dj.Dataset) -> dict[str, object]:
    ids = ds.df.index[:4]
    mask = np.zeros(len(ds), dtype=bool)
    mask[:4] = True
    return {
        "list": [int(i) for i in ids],
        "array": np.asarray(ids),
        "Index": ids,
        "Series": pd.Series(ids),
        "bool Series": ds.df.index.isin(ids) & True,  # an array mask in row order
        "bool Series by id": pd.Series(ds.df.index.isin(ids), index=ds.df.index),
        "bool list": mask.tolist(),
    }


@pytest.mark.parametrize("form", list(_forms(_ds())))
def test_every_id_taking_method_accepts_every_form(form):
    for method in ("relabel", "remove", "update", "augment", "unlabel"):
        ds = _ds()
        sel = _forms(ds)[form]
        want = [int(i) for i in ds.df.index[:4]]
        if method == "relabel":
            ds.relabel(sel, "a")
            assert (ds.df.loc[want, "label"] == "a").all()
        elif method == "remove":
            ds.remove(sel)
            assert not set(want) & set(ds.df.index)
        elif method == "update":
            ds.update(sel, "x", 0.0)
            assert (ds.df.loc[want, "x"] == 0.0).all()
        elif method == "augment":
            new = ds.augment("jitter", ids=sel, n=1, random_state=0)
            assert sorted(ds.origins.loc[new, "source_id"].astype(int)) == want
        else:
            ds.unlabel(sel)
            assert ds.df.loc[want, "label"].isna().all()
        assert ds.version == 1, (method, form)


def test_a_mask_of_the_wrong_length_or_unknown_ids_change_nothing():
    ds = _ds()
    with pytest.raises(ValueError, match="one entry per row"):
        ds.relabel([True, False], "a")
    with pytest.raises(KeyError, match="999"):
        ds.remove([1, 999])
    with pytest.raises(ValueError, match="integer sample ids"):
        ds.augment("jitter", ids=["a", "b"])
    assert ds.version == 0 and len(ds.history.changes) == 0
