"""Property tests: any sequence of operations replays exactly, and undo restores fingerprints."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dcai_jupyter as dj

CLASSES = ["a", "b", "c"]
_counter = itertools.count()

op = st.one_of(
    st.tuples(
        st.just("relabel"),
        st.lists(st.integers(0, 10_000), min_size=1, max_size=4),
        st.lists(st.sampled_from(CLASSES), min_size=4, max_size=4),
    ),
    st.tuples(
        st.just("remove"), st.lists(st.integers(0, 10_000), min_size=1, max_size=3), st.none()
    ),
    st.tuples(st.just("add"), st.integers(1, 3), st.sampled_from(CLASSES)),
    st.tuples(st.just("undo"), st.none(), st.none()),
    st.tuples(st.just("redo"), st.none(), st.none()),
)


def _base(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(n)
    ids = rng.permutation(n * 3)[:n]
    return pd.DataFrame(
        {
            "f": rng.normal(size=n),
            "k": rng.integers(0, 5, size=n),
            "label": pd.array(rng.choice(CLASSES, size=n), dtype="str"),
        },
        # ids not in row order for odd n (hash lookups), ascending for even n (binary search)
        index=pd.Index(ids if n % 2 else np.sort(ids)),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(1, 12), ops=st.lists(op, max_size=12))
def test_replay_equals_live_state_at_every_version(tmp_path, n, ops):
    base = _base(n)
    path = tmp_path / f"p{next(_counter)}.sqlite"
    ds = dj.Dataset(base, label="label", name="prop", history=path)
    states = {0: (ds.df, ds.fingerprint)}
    for kind, a, b in ops:
        ids = ds.ids
        prev_fp, prev_df, prev_version = ds.fingerprint, ds.df, ds.version
        try:
            if kind == "relabel":
                if len(ids) == 0:
                    continue
                chosen = list(dict.fromkeys(int(ids[i % len(ids)]) for i in a))
                ds.relabel(chosen, b[: len(chosen)])
            elif kind == "remove":
                if len(ids) == 0:
                    continue
                ds.remove(list(dict.fromkeys(int(ids[i % len(ids)]) for i in a)))
            elif kind == "add":
                ds.add(pd.DataFrame({"f": [0.5] * a, "k": [1] * a, "label": [b] * a}))
            elif kind == "undo":
                ds.undo()
            else:
                ds.redo()
        except ValueError as e:
            assert "nothing to" in str(e)
            assert ds.version == prev_version and ds.fingerprint == prev_fp
            pd.testing.assert_frame_equal(ds.df, prev_df)
            continue
        states[ds.version] = (ds.df, ds.fingerprint)
    h = dj.open_history(path)
    assert h.head == ds.version
    for v, (df, _fp) in states.items():
        pd.testing.assert_frame_equal(h.replay(base, to=v), df)
        pd.testing.assert_frame_equal(ds.history.checkout(v), df)
    h.close()
    # resuming from the file gives the same head state
    ds.history.close()
    again = dj.Dataset(base, label="label", name="prop", history=path)
    pd.testing.assert_frame_equal(again.df, ds.df)
    assert again.fingerprint == ds.fingerprint


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 10),
    seq=st.lists(st.sampled_from(["relabel", "remove", "add"]), min_size=1, max_size=8),
)
def test_undo_restores_exact_previous_fingerprint(n, seq):
    ds = dj.Dataset(_base(n), label="label")
    stack = []
    for kind in seq:
        ids = ds.ids
        if kind != "add" and len(ids) == 0:
            continue
        before = (ds.fingerprint, ds.df)
        if kind == "relabel":
            cur = ds.df.loc[int(ids[0]), "label"]
            ds.relabel([int(ids[0])], [next(c for c in CLASSES if c != cur)])
        elif kind == "remove":
            ds.remove([int(ids[-1])])
        else:
            ds.add(pd.DataFrame({"f": [1.0], "k": [2], "label": ["c"]}))
        stack.append(before)
    while stack:
        fp, df = stack.pop()
        ds.undo()
        assert ds.fingerprint == fp
        pd.testing.assert_frame_equal(ds.df, df)
