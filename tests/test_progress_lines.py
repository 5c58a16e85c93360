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
