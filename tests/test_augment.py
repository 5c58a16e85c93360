"""ds.augment(): built-in transforms on numbers, images and text; user callables; the checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj
from dcai_jupyter.ops import Augment, rebuild
from dcai_jupyter.ops._params import ParamError
from dcai_jupyter.ops._transforms import BUILTIN_TRANSFORMS

TEXTS = [
    "the quick brown fox jumps over the lazy dog",
    "a data scientist improves the training set instead of the model",
    "every change lands in an iteration history that can be replayed",
]


def _frame(n: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gray = [rng.integers(0, 256, (8, 10), dtype=np.uint8) for _ in range(n)]
    return pd.DataFrame(
        {
            "x": rng.normal(10, 2, n),
            "k": rng.integers(0, 100, n).astype(np.int64),
            "on": rng.random(n) > 0.5,
            "img": gray,
            "note": [TEXTS[i % 3] + f" row {i}" for i in range(n)],
            "y": ["a", "b"] * (n // 2),
        }
    )


def _ds(n: int = 12, **kw) -> dj.Dataset:
    return dj.Dataset(_frame(n), label="y", image="img", text="note", **kw)


def _state(ds):
    return (ds.version, len(ds), ds.fingerprint, len(ds.history))


# ---------------------------------------------------------------------------- user transforms
# a history records a function by its registered name only (it never imports code)
@dj.register_transform
def scale_x(rows, rng):
    out = rows.copy()
    out["x"] = out["x"] * 1.5
    return out


@dj.register_transform
def add_column(rows, rng):
    return rows.assign(extra=1)


@dj.register_transform
def make_float(rows, rng):
    return rows.assign(k=rows["k"] + 0.5)


@dj.register_transform
def nan_x(rows, rng):
    return rows.assign(x=np.nan)


@dj.register_transform
def nan_image(rows, rng):
    out = rows.copy()
    out["img"] = [np.full(v.shape, np.nan) for v in out["img"]]
    return out


@dj.register_transform
def float_image(rows, rng):
    out = rows.copy()
    out["img"] = [v.astype(np.float64) for v in out["img"]]
    return out


@dj.register_transform
def crop_image(rows, rng):
    out = rows.copy()
    out["img"] = [v[:4, :4] for v in out["img"]]
    return out


@dj.register_transform
def drop_row(rows, rng):
    return rows.iloc[1:]


@dj.register_transform
def flip_label(rows, rng):
    return rows.assign(y="z")


@dj.register_transform
def not_a_frame(rows, rng):
    return rows.to_numpy()


# ---------------------------------------------------------------------------- built-ins
def test_every_builtin_changes_its_column_only_and_keeps_dtype_shape_and_range():
    ds = _ds()
    src = [0, 1, 2, 3]
    before = ds.take(src)
    touched = {
        "jitter": {"x", "k"},
        "shift": {"img"},
        "rotate": {"img"},
        "flip": {"img"},
        "noise": {"img"},
        "token_dropout": {"note"},
        "token_swap": {"note"},
        "char_noise": {"note"},
    }
    assert set(touched) == set(BUILTIN_TRANSFORMS)
    for name, cols in touched.items():
        params = {"name": name, "p": 0.5} if name in ("token_dropout", "char_noise") else name
        new = ds.augment(params, ids=src, random_state=1)
        rows = ds.take(new)
        assert ds.origins.loc[new, "origin"].eq(f"augmented:{name}").all()
        assert ds.origins.loc[new, "source_id"].tolist() == src
        assert rows["y"].tolist() == before["y"].tolist()
        for c in ["x", "k", "on", "note"]:
            changed = rows[c].to_numpy() != before[c].to_numpy()
            assert changed.any() == (c in cols), (name, c)
            assert rows[c].dtype == before[c].dtype
        img_changed = [
            not np.array_equal(a, b) for a, b in zip(rows["img"], before["img"], strict=True)
        ]
        assert any(img_changed) == ("img" in cols), name
        for a in rows["img"]:
            assert a.shape == (8, 10) and a.dtype == np.uint8


def test_jitter_is_scaled_per_feature():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"small": rng.normal(0, 0.001, 500), "big": rng.normal(0, 1000, 500), "y": 0})
    ds = dj.Dataset(df, label="y")
    new = ds.augment({"name": "jitter", "scale": 0.1})
    diff = ds.take(new)[["small", "big"]].to_numpy() - df[["small", "big"]].to_numpy()
    ratio = diff.std(axis=0) / df[["small", "big"]].std().to_numpy()
    assert np.allclose(ratio, 0.1, rtol=0.15)


def test_image_transforms_are_the_geometry_they_say():
    img = np.zeros((8, 10), dtype=np.uint8)
    img[2:4, 3:6] = 200
    df = pd.DataFrame({"img": [img, img.copy()], "y": ["a", "b"]})
    ds = dj.Dataset(df, label="y", image="img")
    flipped = ds.take(ds.augment("flip", ids=[0]))["img"].iloc[0]
    assert np.array_equal(flipped, img[:, ::-1])
    vflip = ds.take(ds.augment({"name": "flip", "axis": "vertical"}, ids=[0]))["img"].iloc[0]
    assert np.array_equal(vflip, img[::-1, :])
    same = ds.take(ds.augment({"name": "rotate", "degrees": 0}, ids=[0]))["img"].iloc[0]
    assert np.array_equal(same, img)
    for seed in range(5):  # a shift moves the block; its size and brightness stay
        moved = ds.take(ds.augment("shift", ids=[0], random_state=seed))["img"].iloc[0]
        assert (moved == 200).sum() == 6
    noisy = ds.take(ds.augment({"name": "noise", "sigma": 0.5}, ids=[0]))["img"].iloc[0]
    # stays in the column's value range: clipped, not wrapped around (uint8 0 - 1 = 255)
    assert noisy.dtype == img.dtype and (noisy != img).any()
    # about half the background would go below 0: clipped it stays 0 (wrapped it would not)
    assert noisy.max() <= 200 and (noisy[img == 0] == 0).mean() > 0.3


def test_rgb_channels_last_images_are_transformed_per_channel():
    rng = np.random.default_rng(0)
    imgs = [rng.random((6, 7, 3)) for _ in range(4)]
    df = pd.DataFrame({"img": imgs, "y": [0, 1, 0, 1]})
    ds = dj.Dataset(df, label="y", image="img")
    new = ds.augment(["flip", "rotate", "noise", "shift"], ids=[0, 1])
    out = ds.take(new)["img"]
    assert all(a.shape == (6, 7, 3) and a.dtype == np.float64 for a in out)
    assert ds.origins.loc[new, "origin"].eq("augmented:flip+rotate+noise+shift").all()
    f = ds.take(ds.augment("flip", ids=[2]))["img"].iloc[0]
    assert np.array_equal(f, imgs[2][:, ::-1, :])


def test_text_transforms():
    ds = _ds()
    src = ds.take([0])["note"].iloc[0]
    tokens = src.split()
    dropped = ds.take(ds.augment({"name": "token_dropout", "p": 0.5}, ids=[0]))["note"].iloc[0]
    kept = dropped.split()
    assert 1 <= len(kept) < len(tokens)
    it = iter(tokens)
    assert all(t in it for t in kept)  # a subsequence, in order
    swapped = ds.take(ds.augment("token_swap", ids=[0]))["note"].iloc[0]
    assert sorted(swapped.split()) == sorted(tokens) and swapped != src
    noisy = ds.take(ds.augment({"name": "char_noise", "p": 0.2}, ids=[0]))["note"].iloc[0]
    assert noisy != src and abs(len(noisy) - len(src)) < len(src) // 2


def test_a_list_composes_in_order_and_n_makes_copies_next_to_each_other():
    ds = _ds()
    new = ds.augment(["jitter", "token_swap", "noise"], ids=[4, 5, 6], n=3)
    assert len(new) == 9
    o = ds.origins.loc[new]
    assert o["origin"].eq("augmented:jitter+token_swap+noise").all()
    assert o["source_id"].tolist() == [4, 4, 4, 5, 5, 5, 6, 6, 6]
    rows = ds.take(new)
    assert rows["x"].nunique() == 9  # each copy got its own noise


def test_same_random_state_same_rows():
    a, b, c = _ds(), _ds(), _ds()
    na = a.augment(["jitter", "rotate", "char_noise"], n=2, random_state=5)
    nb = b.augment(["jitter", "rotate", "char_noise"], n=2, random_state=5)
    nc = c.augment(["jitter", "rotate", "char_noise"], n=2, random_state=6)
    assert a.fingerprint == b.fingerprint
    assert a.take(na)["note"].tolist() == b.take(nb)["note"].tolist()
    assert a.fingerprint != c.fingerprint
    del nc


def test_default_sources_are_labeled_original_rows():
    df = _frame()
    df["y"] = df["y"].astype(object)
    df.loc[[0, 1], "y"] = None
    ds = dj.Dataset(df, label="y", image="img", text="note")
    first = ds.augment("jitter")
    assert len(first) == 10
    assert 0 not in ds.origins.loc[first, "source_id"].tolist()
    second = ds.augment("jitter")  # augmented rows are not augmented again
    assert len(second) == 10
    assert set(ds.origins.loc[second, "source_id"]) == set(ds.origins.loc[first, "source_id"])


# ---------------------------------------------------------------------------- user callables
def test_a_module_level_function_is_accepted_and_recorded_by_name():
    ds = _ds()
    new = ds.augment(scale_x, ids=[0, 1])
    assert np.allclose(ds.take(new)["x"].to_numpy(), ds.take([0, 1])["x"].to_numpy() * 1.5)
    assert ds.origins.loc[new, "origin"].eq("augmented:scale_x").all()
    last = ds.history.changes.iloc[-1]
    assert last["op"] == "augment"
    assert last["params"]["operation"]["transform"] == {"__callable__": f"{__name__}.scale_x"}
    assert last["params"]["options"]["ids"] == [0, 1]


@pytest.mark.parametrize(
    ("transform", "match"),
    [
        (add_column, r"changed the schema: missing columns \[\], extra \['extra'\]"),
        (make_float, r"column 'k' is float64, was int64"),
        (nan_x, r"NaN or missing values in column 'x'"),
        (nan_image, r"changed the schema: column 'img' holds uint8|NaN"),
        (float_image, r"column 'img' holds uint8 arrays"),
        (crop_image, r"shape \(8, 10\), got uint8 \(4, 4\)"),
        (drop_row, "returned 1 rows for 2"),
        (flip_label, "changed 2 labels"),
        (not_a_frame, "must return a DataFrame"),
        (["jitter", add_column], "add_column.*changed the schema"),
    ],
)
def test_a_transform_that_breaks_the_schema_or_returns_nan_records_nothing(transform, match):
    ds = _ds()
    state = _state(ds)
    with pytest.raises(ValueError, match=match):
        ds.augment(transform, ids=[0, 1])
    assert _state(ds) == state
    assert len(ds.origins) == 0


def test_nan_in_float_images_is_refused():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"img": [rng.random((4, 4)) for _ in range(3)], "y": [0, 1, 0]})
    ds = dj.Dataset(df, label="y", image="img")
    with pytest.raises(ValueError, match="NaN or missing values in column 'img'"):
        ds.augment(nan_image)
    assert ds.version == 0


def test_a_lambda_cannot_be_recorded_and_changes_nothing():
    ds = _ds()
    with pytest.raises(ParamError, match="lambda"):
        ds.augment(lambda rows, rng: rows)
    assert _state(ds) == (0, 12, ds.fingerprint, 0)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"transform": "blur"}, ValueError, r"unknown transform 'blur'.*char_noise"),
        ({"transform": {"name": "jitter", "sigma": 1}}, ValueError, r"takes \['scale'\]"),
        ({"transform": {"scale": 1}}, ValueError, "needs a 'name'"),
        ({"transform": []}, ValueError, "empty list"),
        ({"transform": 3}, TypeError, "a transform is a name"),
        ({"transform": "jitter", "n": 0}, ValueError, "positive integer"),
        ({"transform": "jitter", "ids": []}, ValueError, "ids is empty"),
        ({"transform": "jitter", "ids": [0, 0]}, ValueError, "given more than once"),
        ({"transform": "jitter", "ids": [999]}, KeyError, "999"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, exc, match):
    ds = _ds()
    state = _state(ds)
    with pytest.raises(exc, match=match):
        ds.augment(**kwargs)
    assert _state(ds) == state


def test_a_transform_with_nothing_to_act_on_says_so():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    ds = dj.Dataset(df, label="y")
    with pytest.raises(ValueError, match=r"'shift' transforms images.*has none"):
        ds.augment("shift")
    with pytest.raises(ValueError, match=r"'token_swap' transforms text.*no text column"):
        ds.augment("token_swap")
    only_text = dj.Dataset(pd.DataFrame({"t": TEXTS, "y": [0, 1, 0]}), label="y", text="t")
    with pytest.raises(ValueError, match=r"'jitter'.*has none"):
        only_text.augment("jitter")
    empty = dj.Dataset(df.iloc[:0], label="y")
    with pytest.raises(ValueError, match="empty"):
        empty.augment("jitter")


# ---------------------------------------------------------------------------- removal, replay
def test_augmented_rows_are_removed_as_one_change_and_undo_restores_them(tmp_path):
    ds = _ds(history=tmp_path / "h.sqlite")
    fp0 = ds.fingerprint
    a = ds.augment("jitter", ids=[0, 1])
    b = ds.augment(["shift", "noise"], ids=[2], n=2)
    fp2 = ds.fingerprint
    ds.remove_augmented(origin="augmented:shift+noise")
    assert ds.ids_with_origin("augmented").tolist() == a.tolist()
    ds.undo()
    assert ds.fingerprint == fp2
    v = ds.remove_augmented()
    assert v == ds.version and len(ds) == 12 and ds.fingerprint == fp0
    ds.undo()
    assert ds.ids_with_origin("augmented").tolist() == a.tolist() + b.tolist()
    assert ds.origins.loc[b, "source_id"].tolist() == [2, 2]
    # exact replay: the history resumes to the same state with the same origins
    again = dj.Dataset(_frame(), label="y", image="img", text="note", history=tmp_path / "h.sqlite")
    assert again.fingerprint == ds.fingerprint
    pd.testing.assert_frame_equal(again.origins, ds.origins)


def test_recipe_replay_rebuilds_the_operation_and_reproduces_the_rows(monkeypatch):
    from dcai_jupyter.ops import _params

    ds = _ds()
    ds.augment(
        [{"name": "jitter", "scale": 0.2}, "rotate", scale_x], ids=[1, 3], n=2, random_state=4
    )
    last = ds.history.changes.iloc[-1]
    with monkeypatch.context() as m:  # a process that has not registered scale_x
        m.setattr(
            _params, "_CALLABLES", {k: f for k, f in _params._CALLABLES.items() if f is not scale_x}
        )
        with pytest.raises(ParamError, match=r"not a registered function.*register_transform"):
            rebuild(last["op"], last["params"])  # a history file cannot import arbitrary code
    op = rebuild(last["op"], last["params"])
    assert isinstance(op, Augment)
    # ids= is a selection: recipe replay carries the rows made from those samples over
    res = ds.history.replay_recipe(_ds().df, progress=False)
    assert res.applied.iloc[-1]["kind"] == "selection", res.report()
    assert res.dataset.fingerprint == ds.fingerprint
    # by rule (every row), the operation itself re-runs to the same rows
    whole = _ds()
    whole.augment("jitter", n=1, random_state=4)
    rec = whole.history.changes.iloc[-1]["params"]
    fresh = _ds()
    fresh.apply(rebuild("augment", rec).replay(fresh, rec))
    assert fresh.fingerprint == whole.fingerprint


@dj.register_transform
def nan_late(rows, rng):
    """NaN only for rows past the first batch: all or nothing across batches."""
    out = rows.copy()
    out.loc[out.index >= 1500, "x"] = np.nan
    return out


def test_large_data_runs_in_batches_deterministically_and_all_or_nothing():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=2500), "y": rng.integers(0, 2, 2500)})
    a, b = dj.Dataset(df, label="y"), dj.Dataset(df, label="y")
    na = a.augment("jitter", progress=False)
    nb = b.augment("jitter", progress=True)
    assert len(na) == 2500 and a.fingerprint == b.fingerprint
    assert a.origins.loc[na, "source_id"].tolist() == list(range(2500))
    c = dj.Dataset(df, label="y")
    with pytest.raises(ValueError, match="NaN or missing values in column 'x'"):
        c.augment(nan_late)
    assert c.version == 0 and len(c) == 2500 and len(c.history) == 0
    del nb
