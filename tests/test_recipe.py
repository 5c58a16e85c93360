"""Recipe replay onto new data: what carries over, what is flagged, nothing silently dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_operations import APPLY_OPS, _dataset, _examples, _find

import dcai_jupyter as dj
from dcai_jupyter.core import open_history
from dcai_jupyter.core._recipe_steps import RecordedChange, effective_changes
from dcai_jupyter.ops._recipe import replay_recipe


def _frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = np.where(x[:, 0] + 0.3 * x[:, 1] > 0, "pos", "neg").astype(object)
    return pd.DataFrame({"f0": x[:, 0], "f1": x[:, 1], "y": y})


def _flip(label: str) -> str:
    return "neg" if label == "pos" else "pos"


def _all_accounted(res, head: int) -> None:
    assert res.accounted() == set(range(1, head + 1)), res.report()


@pytest.fixture
def worked(tmp_path):
    """A dataset with decisions of every kind, and new data with added/removed/changed rows."""
    df = _frame()
    ds = dj.Dataset(df, label="y", name="work", history=tmp_path / "work.sqlite")
    y = df["y"]
    v_relabel = ds.relabel([3, 4, 5, 6], [_flip(y[i]) for i in (3, 4, 5, 6)], reason="by eye")
    v_remove = ds.remove([10, 11, 12], reason="junk")
    v_update = ds.update([20, 21], "f1", [9.5, -9.5])
    ds.relabel([30], [_flip(y[30])])
    v_undone = ds.version
    ds.undo()
    added = ds.add(pd.DataFrame({"f0": [5.0], "f1": [5.0], "y": ["pos"]}))
    v_add = ds.version
    ds.relabel(added, ["neg"])  # a decision about a row the person added
    v_relabel_added = ds.version

    new = df.copy()
    new.loc[4, "f0"] += 1.0  # changed sample: its relabel needs review
    new.loc[6, "y"] = _flip(y[6])  # already relabeled at the source: nothing to do
    new.loc[11, "f1"] += 1.0  # changed: its removal needs review
    new.loc[21, "f0"] += 1.0  # changed: its update needs review
    new = new.drop(index=[5, 12])  # gone: their decisions need review
    extra = pd.DataFrame(
        {"f0": [0.1, -0.2], "f1": [0.0, 0.3], "y": ["pos", "neg"]}, index=[700, 701]
    )
    new = pd.concat([new, extra])
    return {
        "ds": ds,
        "df": df,
        "new": new,
        "v": {
            "relabel": v_relabel,
            "remove": v_remove,
            "update": v_update,
            "undone": v_undone,
            "add": v_add,
            "relabel_added": v_relabel_added,
        },
    }


def test_decisions_carry_over_where_unchanged_and_the_rest_is_listed(worked):
    ds, new, v = worked["ds"], worked["new"], worked["v"]
    df = worked["df"]
    res = ds.history.replay_recipe(new, progress=False)
    out = res.dataset
    assert isinstance(out, dj.Dataset)  # the facade's, with evaluate() and replay_recipe()
    _all_accounted(res, ds.version)
    assert res.content_check == "rows"

    # relabels: 3 carried; 6 already so; 4 changed and 5 gone -> review
    assert out.df.at[3, "y"] == _flip(df.at[3, "y"])
    assert out.df.at[4, "y"] == new.at[4, "y"]  # not applied
    review = {(r.seq, r.sample_id): r.reason for r in res.needs_review.itertuples()}
    assert "changed" in review[(v["relabel"], 4)]
    assert review[(v["relabel"], 5)] == "not in the new data"
    row = res.applied.loc[v["relabel"]]
    assert (row["kind"], row["carried"], row["review"], row["rows"]) == ("decision", 1, 2, 1)
    assert "1 already so" in row["detail"]

    # removals: 10 carried, 11 changed -> review, 12 gone -> review
    assert 10 not in out.df.index and 11 in out.df.index
    assert "changed" in review[(v["remove"], 11)]
    assert review[(v["remove"], 12)] == "not in the new data"

    # updates: 20 carried, 21 changed -> review (with what was decided)
    assert out.df.at[20, "f1"] == 9.5 and out.df.at[21, "f1"] == new.at[21, "f1"]
    r21 = res.needs_review[
        (res.needs_review.seq == v["update"]) & (res.needs_review.sample_id == 21)
    ]
    assert r21[["column", "new"]].values.tolist() == [["f1", -9.5]]

    # the undone relabel and the undo itself are skipped with their reasons
    assert "undone" in res.skipped.at[v["undone"], "reason"]
    assert res.skipped.at[v["undone"] + 1, "op"] == "undo"

    # the added row is added again (new id), and the decision about it follows it
    added = res.applied.loc[v["add"]]
    assert added["rows"] == 1
    new_id = max(out.ids)
    assert new_id > 701 and out.df.at[new_id, "f0"] == 5.0
    assert out.df.at[new_id, "y"] == "neg"
    assert res.applied.at[v["relabel_added"], "carried"] == 1

    # new rows of the new data are kept as they are
    assert out.df.loc[[700, 701], "y"].tolist() == ["pos", "neg"]
    # nothing flagged was applied: every review row's sample is as in the new data
    for r in res.needs_review.itertuples():
        if r.sample_id in out.df.index and r.sample_id in new.index:
            col = r.column or "y"
            assert out.df.at[r.sample_id, col] == new.at[r.sample_id, col]

    # provenance: the replayed history says it came from a recipe
    changes = out.history.changes
    assert set(changes["source"]) == {"recipe"}
    assert all("recipe" in p for p in changes["params"])
    ev = out.history.events
    first = ev.iloc[0]
    assert first["op"] == "replay_recipe" and first["params"]["from"] == ds.history.path
    assert ev.iloc[-1]["summary"]["needs_review"] == len(res.needs_review)
    assert "needs review 5" in res.report()


def test_replay_from_the_file_alone_compares_recorded_values_and_with_base_whole_rows(worked):
    ds, new, df = worked["ds"], worked["new"], worked["df"]
    h = open_history(ds.history.path)
    alone = replay_recipe(h, new, progress=False)
    _all_accounted(alone, h.head)
    assert alone.content_check == "recorded values"
    # without the old rows, a relabel of a changed sample cannot be told apart...
    assert alone.dataset.df.at[4, "y"] == _flip(df.at[4, "y"])
    # ...but a removal still is (the removed row is in the history)
    assert 11 in alone.dataset.df.index
    with_base = replay_recipe(h, new, base=df, progress=False)
    assert with_base.content_check == "rows"
    assert with_base.dataset.df.equals(ds.history.replay_recipe(new, progress=False).dataset.df)
    with pytest.raises(dj.BaseMismatchError):
        replay_recipe(h, new, base=df.iloc[1:], progress=False)


def test_operations_are_re_run_on_the_new_data_with_their_recorded_parameters():
    from dcai_jupyter.ops import LabelIssues

    df = _frame(200)
    noisy = df.copy()
    flips = [1, 7, 15, 40, 77]
    noisy.loc[flips, "y"] = [_flip(v) for v in noisy.loc[flips, "y"]]
    ds = dj.Dataset(noisy, label="y")
    op = LabelIssues(cv=3, random_state=0, progress=False)
    op.apply(ds, op.find(ds))  # every flagged sample: the rule
    v_op = ds.version
    assert "selection" not in ds.history.changes["params"].iloc[-1]

    nxt = _frame(200, seed=1)
    flips2 = [2, 9, 33]
    nxt.loc[flips2, "y"] = [_flip(v) for v in nxt.loc[flips2, "y"]]
    res = ds.history.replay_recipe(nxt, progress=False)
    row = res.applied.loc[v_op]
    assert row["kind"] == "operation" and row["rows"] > 0
    assert "findings differ" in row["detail"]
    # the same operation run by hand on the new data gives the same change
    by_hand = dj.Dataset(nxt, label="y")
    op2 = LabelIssues(cv=3, random_state=0, progress=False)
    op2.apply(by_hand, op2.find(by_hand))
    pd.testing.assert_frame_equal(res.dataset.df, by_hand.df)
    assert res.needs_review.empty
    # on the same data the rule finds the same findings, and says so
    same = ds.history.replay_recipe(noisy, progress=False)
    assert "the same findings as recorded" in same.applied.loc[v_op, "detail"]


def test_top_is_a_selection_carried_by_sample_id_never_the_new_top():
    from dcai_jupyter.ops import LabelIssues

    noisy = _frame(200)
    flips = [1, 7, 15, 40, 77]
    noisy.loc[flips, "y"] = [_flip(v) for v in noisy.loc[flips, "y"]]
    ds = dj.Dataset(noisy, label="y")
    op = LabelIssues(cv=3, random_state=0, progress=False)
    op.apply(ds, op.find(ds), top=3)
    params = ds.history.changes["params"].iloc[-1]
    chosen = params["selection"]["ids"]
    assert params["selection"]["by"] == ["top"] and len(chosen) == 3
    # other data under the same ids: the rule would pick other samples; none is touched
    nxt = _frame(200, seed=1)
    res = ds.history.replay_recipe(nxt, progress=False)
    assert (res.dataset.df["y"] == nxt["y"]).all(), res.report()
    assert sorted(res.needs_review["sample_id"]) == sorted(chosen)
    assert set(res.needs_review["reason"]) == {
        "the sample changed since it was selected (content differs)"
    }
    assert 1 in res.findings and res.findings[1].op == "label_issues"
    # the same data: exactly those three, as decided
    same = ds.history.replay_recipe(noisy, progress=False)
    assert same.dataset.fingerprint == ds.fingerprint, same.report()
    assert same.applied.loc[1, "kind"] == "selection" and same.applied.loc[1, "carried"] == 3


def test_a_revert_leaves_the_reverted_changes_out_and_undoing_it_brings_them_back():
    def rc(seq: int, op: str, **params: int) -> RecordedChange:
        return RecordedChange(seq, op, dict(params), [])

    changes = [rc(1, "relabel"), rc(2, "remove"), rc(3, "revert", to=1), rc(4, "relabel")]
    alive, why = effective_changes(changes)
    assert alive == [1, 4] and "reverted" in why[2] and "revert" in why[3]
    alive, _ = effective_changes([*changes, rc(5, "undo", undoes=4), rc(6, "undo", undoes=3)])
    assert alive == [1, 2]
    alive, _ = effective_changes([*changes[:3], rc(4, "undo", undoes=3), rc(5, "redo", redoes=3)])
    assert alive == [1]


def test_bad_new_data_is_refused_with_what_to_do_and_nothing_is_made(worked):
    ds, new = worked["ds"], worked["new"]
    with pytest.raises(ValueError, match=r"columns differ.*missing \[.f1.\]"):
        ds.history.replay_recipe(new.drop(columns=["f1"]))
    with pytest.raises(ValueError, match="no label column 'y'"):
        ds.history.replay_recipe(new.rename(columns={"y": "target"}))
    with pytest.raises(TypeError, match="DataFrame"):
        ds.history.replay_recipe(new.to_dict())  # type: ignore[arg-type]


@pytest.mark.parametrize("op_name", APPLY_OPS)
def test_a_recipe_of_every_registered_operation_replays_onto_new_data(op_name):
    ex = _examples(op_name)[0]
    ds = _dataset(ex)
    op = ex.operation
    version = op.apply(ds, _find(op, ds), **ex.options)
    assert version == ds.version == 1, "the example must change at least one row"
    keep = ds.ids[0]
    ds.relabel([keep], [next(c for c in ds.classes if c != ds.df.at[keep, ds.label])])
    # the same data: the operation re-runs to the same change, the decision carries over
    same = ds.history.replay_recipe(ex.frame, progress=False)
    _all_accounted(same, ds.version)
    selected = bool(ds.history.changes["params"].iloc[0].get("selection"))
    assert same.applied.at[1, "kind"] == ("selection" if selected else "operation"), same.report()
    assert same.dataset.fingerprint == ds.fingerprint, same.report()
    # new data (a fifth of the rows dropped): every change is applied, skipped or listed
    smaller = ex.frame.iloc[: int(len(ex.frame) * 0.8)]
    if keep not in smaller.index:
        smaller = pd.concat([ex.frame.loc[[keep]], smaller])
    res = ds.history.replay_recipe(smaller, progress=False)
    _all_accounted(res, ds.version)
    if selected:  # exactly the selected samples that were dropped are listed for review
        chosen = ds.history.changes["params"].iloc[0]["selection"]["ids"]
        listed1 = set(res.needs_review.loc[res.needs_review.seq == 1, "sample_id"])
        assert listed1 == {i for i in chosen if i not in smaller.index}, res.report()
        assert (1 in res.applied.index) == (len(listed1) < len(chosen)), res.report()
    else:  # the rule re-runs on the smaller data
        assert res.applied.at[1, "kind"] == "operation", res.report()
    # the person's relabel is carried over, or listed for review when the re-run operation
    # left that sample in another state than the one it was decided on
    carried = 2 in res.applied.index and res.applied.loc[2, ["carried", "already"]].sum() == 1
    listed = ((res.needs_review.seq == 2) & (res.needs_review.sample_id == keep)).any()
    assert carried != listed, res.report()
    if carried:
        assert res.dataset.df.at[keep, ds.label] == ds.df.at[keep, ds.label]
