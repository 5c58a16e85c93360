"""Long steps show a progress line (issue 21): recipe replay on large data, and an issue type
found on its own (its cross-validation). Outside a notebook the line is tqdm's, on stderr."""

from __future__ import annotations

import pandas as pd
from sklearn.datasets import make_classification

import dcai_jupyter as dj


def _dataset(n: int, name: str) -> dj.Dataset:
    X, y = make_classification(
        n_samples=n, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    df["label"] = y
    return dj.Dataset(df, label="label", name=name, history=":memory:")


def test_recipe_replay_on_large_data_shows_one_line_for_the_replay(capsys):
    ds = _dataset(2500, "replay")
    ds.relabel([0, 1], [1, 2])
    ds.remove([5])
    ds.find_duplicates(near=False, progress=False)
    capsys.readouterr()
    result = ds.history.replay_recipe(ds.checkout(0))
    err = capsys.readouterr().err
    assert "recipe replay" in err and "/2" in err
    assert len(result.applied) == 2
    small = _dataset(300, "small")
    small.relabel([0], [1])
    small.remove([5])
    capsys.readouterr()
    small.history.replay_recipe(small.checkout(0))
    assert "recipe replay" not in capsys.readouterr().err  # instant: no line
    small.history.replay_recipe(small.checkout(0), progress=False)


def test_an_issue_type_found_on_its_own_shows_its_cross_validation(capsys):
    ds = _dataset(600, "alone")
    capsys.readouterr()
    ds.find_underperforming_groups()
    assert "audit: probabilities" in capsys.readouterr().err
    ds.audit(types=["underperforming_group"], progress=False)
    assert capsys.readouterr().err == ""  # inside the audit, its one line (here off) stands for it


def test_image_issues_on_many_images_show_a_line(capsys):
    import numpy as np

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, size=(8, 8), dtype=np.uint8) for _ in range(2000)]
    df = pd.DataFrame({"image": images, "label": rng.integers(0, 2, 2000)})
    ds = dj.Dataset(df, label="label", name="images", history=":memory:")
    capsys.readouterr()
    found = ds.find_image_issues()
    assert "image issues" in capsys.readouterr().err
    assert len(found.frame) == 2000


def _pool(n: int, name: str) -> dj.Dataset:
    """A labeled tenth beside a pool (label missing)."""
    import numpy as np

    X, y = make_classification(
        n_samples=n, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    labels = y.astype(float)
    labels[np.arange(n) % 10 != 0] = np.nan
    df["label"] = labels
    return dj.Dataset(df, label="label", name=name, history=":memory:")


def test_an_active_learning_round_and_pseudo_labels_show_one_line_each(capsys):
    """Issue 21: the pool's predictions (seconds on a large pool) advance one line per block."""
    from dcai_jupyter.ops import PseudoLabel, _pool_model

    ds = _pool(3000, "pool")
    capsys.readouterr()
    picks = ds.suggest_samples(k=5)
    err = capsys.readouterr().err
    steps = 1 + _pool_model.pool_steps(2700)
    assert err.count("suggest samples") >= 1 and f"/{steps}" in err, err
    assert "pool predictions" not in err  # the round's one line stands for its fit
    assert len(picks.frame) == 5
    found = PseudoLabel(threshold=0.9).find(ds)
    err = capsys.readouterr().err
    assert "pseudo labels" in err and f"/{steps}" in err, err
    assert len(found.frame) == 2700
    ds.suggest_samples(k=5, progress=False)
    PseudoLabel(threshold=0.9, progress=False).find(ds)
    assert capsys.readouterr().err == ""


def test_order_test_and_leakage_found_on_their_own_show_a_line_inside_an_audit_none(capsys):
    """Issue 21: the non-IID permutations and the leakage search (seconds each on large data)
    show a line when the type is found on its own; inside ds.audit() the audit's one line."""
    from dcai_jupyter.ops import Leakage, NonIID

    ds = _dataset(2500, "order")
    test = ds.df.drop(columns=["label"]).iloc[:50].reset_index(drop=True)
    capsys.readouterr()
    found = NonIID(n_permutations=8).find(ds)
    err = capsys.readouterr().err
    assert "non-iid: order test" in err and "/8" in err, err
    assert len(found.frame) == 2500
    leaked = Leakage(test=test).find(ds)
    err = capsys.readouterr().err
    assert "near duplicates" in err, err
    assert int(leaked.flags.sum()) == 50  # every copied test row's source is flagged
    ds.audit(types=["non_iid", "leakage"], test=test, progress=False)
    assert capsys.readouterr().err == ""
