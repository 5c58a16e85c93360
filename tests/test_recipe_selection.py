"""Recipe replay of operations that acted on a selection: never onto another sample.

A change that acted on samples a person or a call chose (``ids=``, ``groups=``, ``top=``,
a subset of findings) records them with a content hash each. Replayed on other data, each
selected sample gets what the change did to it where its id and content are the same, and
is listed in ``needs_review`` where it changed or is gone; no other sample is touched, and
the rule is never widened to everything it flags (review: accepting 2 of 167 suggestions
relabeled 167 on replay; ``groups=[1]`` on reordered data removed another group's copy).

The matrix runs every registered operation that takes a selection over five kinds of new
data: the same rows, reordered, shuffled with 10% dropped, 10% of the selected rows'
content changed, and new rows added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression

import dcai_jupyter as dj
from dcai_jupyter.ops import registry


def _blobs(n: int = 90, flips: int = 9, seed: int = 0) -> pd.DataFrame:
    X, y = make_blobs(n_samples=n, centers=3, n_features=3, cluster_std=1.0, random_state=seed)
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, flips, replace=False)
    y[idx] = (y[idx] + 1) % 3
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["label"] = np.array(["ant", "bee", "cat"], dtype=object)[y]
    return df


def _with_copies() -> pd.DataFrame:
    df = _blobs(60)
    copies = df.iloc[[3, 10, 20, 33]].copy()
    return pd.concat([df, copies], ignore_index=True)


def _with_outliers() -> pd.DataFrame:
    df = _blobs(90)
    df.loc[[5, 17, 40, 66, 81], ["a", "b", "c"]] = [
        [40, -40, 40],
        [-45, 35, 50],
        [38, 44, -41],
        [-39, -42, 47],
        [44, 39, 43],
    ]
    return df


@dataclass
class Case:
    op: str
    frame: Callable[[], pd.DataFrame]
    act: Callable[[dj.Dataset], object]  # one recorded change on a selection


def _accept_subset(ds: dj.Dataset) -> object:
    issues = ds.find_label_issues(model=LogisticRegression(max_iter=500), cv=3, progress=False)
    flagged = issues.flagged
    assert len(flagged) >= 4, "the example must flag a few samples"
    return ds.accept_suggestions(issues[flagged.ids[:3]])  # a person took 3 of them


def _accept_top(ds: dj.Dataset) -> object:
    issues = ds.find_label_issues(model=LogisticRegression(max_iter=500), cv=3, progress=False)
    return ds.accept_suggestions(issues, top=4)


def _outliers_top(ds: dj.Dataset) -> object:
    return ds.remove_outliers(ds.find_outliers(), top=4)


def _prune_top(ds: dj.Dataset) -> object:
    pruned = ds.prune(keep=0.8, method="auto", cv=3, inner_cv=2, progress=False)
    return ds.remove_flagged(pruned, top=5)


def _duplicate_groups(ds: dj.Dataset) -> object:
    dups = ds.find_duplicates(near=False)
    groups = sorted(int(g) for g in dups.frame["group"].dropna().unique())
    assert len(groups) >= 3
    return ds.remove_duplicates(dups, groups=groups[1:3])


def _low_value_top(ds: dj.Dataset) -> object:
    return ds.remove_flagged(ds.find_low_value(), top=3)


def _augment_ids(ds: dj.Dataset) -> object:
    return ds.augment("jitter", ids=ds.df.index[5:25], n=2, random_state=3)


def _unlabel_ids(ds: dj.Dataset) -> object:
    return ds.unlabel(list(ds.df.index[[1, 4, 9, 16, 25, 36, 49, 64]]))


CASES = [
    Case("accept_suggestions", _blobs, _accept_subset),
    Case("accept_suggestions", _blobs, _accept_top),
    Case("remove_outliers", _with_outliers, _outliers_top),
    Case("remove_duplicates", _with_copies, _duplicate_groups),
    Case("prune", _blobs, _prune_top),
    Case("remove_low_value", _blobs, _low_value_top),
    Case("augment", _blobs, _augment_ids),
    Case("unlabel", _blobs, _unlabel_ids),
]


def test_every_operation_that_takes_a_selection_is_in_the_matrix():
    takes = {op for op, cls in registry().items() if cls.selectors or cls.selection_params}
    assert takes <= {c.op for c in CASES}, f"add a case for {takes - {c.op for c in CASES}}"


SCENARIOS = ["same", "reordered", "shuffled, 10% dropped", "10% of selected changed", "rows added"]


def _new_data(
    base: pd.DataFrame, selected: list[int], scenario: str
) -> tuple[pd.DataFrame, set[int]]:
    """The new data for ``scenario``, and the selected ids whose content it changed."""
    rng = np.random.default_rng(7)
    if scenario == "same":
        return base.copy(), set()
    if scenario == "reordered":
        return base.iloc[::-1].copy(), set()
    if scenario == "shuffled, 10% dropped":
        out = base.sample(frac=1.0, random_state=1)
        drop = rng.choice(out.index.to_numpy(), size=max(1, len(out) // 10), replace=False)
        # drop at least one selected sample too
        drop = np.union1d(drop, [selected[0]])
        return out.drop(index=drop), set()
    if scenario == "10% of selected changed":
        out = base.copy()
        k = max(1, len(selected) // 10)
        changed = rng.choice(np.asarray(selected), size=k, replace=False).tolist()
        out.loc[changed, "a"] = out.loc[changed, "a"] + 1000.0
        return out, {int(i) for i in changed}
    assert scenario == "rows added"
    extra = base.sample(n=10, random_state=2).copy()
    extra["a"] = extra["a"] + 50.0
    extra.index = pd.RangeIndex(base.index.max() + 1, base.index.max() + 11)
    return pd.concat([base, extra]), set()


def _same_row(x: pd.Series, y: pd.Series) -> bool:
    return bool(x.astype(object).equals(y.astype(object)))


def _check(live: dj.Dataset, new: pd.DataFrame, changed: set[int]) -> None:
    params = live.history.changes["params"].iloc[-1]
    seq = (
        int(live.history.changes.index[-1])
        if live.history.changes.index.name == "seq"
        else len(live.history.changes)
    )
    selection = params["selection"]
    chosen = [int(i) for i in selection["ids"]]
    assert chosen, "the example must act on at least one sample"
    res = live.history.replay_recipe(new, progress=False)
    out = res.dataset.df
    must_review = {i for i in chosen if i not in new.index or i in changed}
    review = res.needs_review[res.needs_review["seq"] == seq]
    assert set(review["sample_id"]) == must_review, res.report()
    carried = set(chosen) - must_review
    # nothing outside the carried selection changed, was removed, or had rows made from it
    common = new.index.intersection(out.index)
    touched = {int(i) for i in common if not _same_row(new.loc[i], out.loc[i, new.columns])}
    removed = {int(i) for i in set(new.index) - set(out.index)}
    assert touched | removed <= carried, res.report()
    assert len(touched | removed) <= len(chosen)
    origins = res.dataset.origins
    made = origins.loc[[i for i in out.index if i not in new.index]]
    sources = set(made["source_id"].dropna().astype(int)) if len(made) else set()
    assert sources <= carried, res.report()
    # each carried sample is as the live change left it
    live_df = live.df
    for i in carried:
        if i in live_df.index:
            assert i in out.index and _same_row(out.loc[i], live_df.loc[i]), (i, res.report())
        else:
            assert i not in out.index, (i, res.report())
        want = int((live.origins["source_id"] == i).sum())
        assert int((origins["source_id"] == i).sum()) == want, (i, res.report())


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.op}:{c.act.__name__}")
def test_replay_carries_the_selection_by_id_and_content(case: Case, scenario: str):
    base = case.frame()
    live = dj.Dataset(base, label="label", history=":memory:")
    case.act(live)
    assert live.version == 1
    selected = [int(i) for i in live.history.changes["params"].iloc[-1]["selection"]["ids"]]
    new, changed = _new_data(base, selected, scenario)
    _check(live, new, changed)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    op=st.sampled_from(["augment", "unlabel", "relabel_via_accept"]),
    picks=st.lists(st.integers(0, 59), min_size=1, max_size=12, unique=True),
    drop=st.lists(st.integers(0, 59), max_size=10, unique=True),
    modify=st.lists(st.integers(0, 59), max_size=6, unique=True),
    seed=st.integers(0, 3),
)
def test_a_random_selection_never_lands_on_another_sample(op, picks, drop, modify, seed):
    base = _blobs(60, flips=0, seed=seed)
    live = dj.Dataset(base, label="label", history=":memory:")
    if op == "augment":
        live.augment("jitter", ids=picks, n=1, random_state=seed)
    elif op == "unlabel":
        live.unlabel(picks)
    else:  # a findings subset a person chose, with a suggestion per sample
        frame = pd.DataFrame(
            {
                "given_label": base.loc[picks, "label"],
                "suggested_label": [
                    "cat" if v != "cat" else "ant" for v in base.loc[picks, "label"]
                ],
                "is_issue": True,
            },
            index=pd.Index(picks, name="sample_id"),
        )
        live.accept_suggestions(frame)
    new = base.sample(frac=1.0, random_state=seed).drop(index=drop)
    changed = set(modify) & set(new.index)
    new.loc[sorted(changed), "b"] = new.loc[sorted(changed), "b"] - 77.0
    _check(live, new, {int(i) for i in changed})


def test_review_state_reaches_recipe_replay():
    base = _blobs(60)
    live = dj.Dataset(base, label="label", history=":memory:")
    issues = live.find_label_issues(model=LogisticRegression(max_iter=500), cv=3, progress=False)
    picked = [int(i) for i in issues.flagged.ids[:2]]
    live.record_review(issues, picked[:1], "kept")
    live.record_review(issues, picked[1:], "reviewed")
    res = live.history.replay_recipe(base.drop(index=picked[1:]), progress=False)
    assert sorted(res.reviews.index) == sorted(picked)
    assert (
        res.reviews.loc[picked[0], "state"] == "kept" and res.reviews.loc[picked[0], "in_new_data"]
    )
    assert not res.reviews.loc[picked[1], "in_new_data"]
    assert "kept or marked reviewed" in res.report()
