"""Images without weights (issue 18): HOG, colour histogram and downscaled pixels as the
default features of an image column; a user's embedding column as features; augmentation
keeps the columns derived from the image in step; label issues, near duplicates and
outliers on a generated image set."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _images import f1, stripes

import dcai_jupyter as dj
from dcai_jupyter.ops import dataset_feature_matrix
from dcai_jupyter.ops._image_features import (
    BINS,
    SIZE,
    THUMB,
    dataset_image_features,
    image_features,
    pixel_columns,
)

skimage_feature = pytest.importorskip("skimage.feature")
Image = pytest.importorskip("PIL.Image")

HOG_DIMS = 324  # 9 orientations x 2x2 cells x 3x3 blocks at 32x32

NAMES = np.array(["d0", "d45", "d90", "d135"])


def dataset(df: pd.DataFrame, **kw: Any) -> dj.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return dj.Dataset(df, label="label", history=":memory:", **kw)


def png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


# ---------------------------------------------------------------------------- features
def test_features_are_hog_histogram_and_thumbnail_and_deterministic(tmp_path: Path) -> None:
    imgs, _ = stripes(6, seed=1)
    X = image_features(imgs)
    assert X.shape == (6, HOG_DIMS + 3 * BINS + 3 * THUMB * THUMB)
    assert np.array_equal(X, image_features(imgs))  # deterministic
    # the first block is scikit-image's HOG of the grey image (32x32 already: no resize)
    grey = imgs[0].astype(np.float64).mean(axis=2) / 255.0
    assert SIZE == 32
    expect = skimage_feature.hog(
        grey, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), feature_vector=True
    )
    assert np.allclose(X[0, :HOG_DIMS], expect)
    hist = X[0, HOG_DIMS : HOG_DIMS + 3 * BINS].reshape(3, BINS)
    assert np.allclose(hist.sum(axis=1), 1.0)  # shares of the pixels, per channel
    # the same pixels as PNG bytes, a PIL image and a file path: the same features
    path = tmp_path / "0.png"
    Image.fromarray(imgs[0]).save(path)
    other = image_features([png(imgs[0]), Image.fromarray(imgs[0]), str(path)])
    assert np.array_equal(other, np.repeat(X[:1], 3, axis=0))
    # grey images (2-D) of another size: their own width, same HOG length
    g = image_features([im.mean(axis=2)[:20, :28] for im in imgs[:2]])
    assert g.shape == (2, HOG_DIMS + BINS + THUMB * THUMB)


def test_unreadable_images_say_which_row() -> None:
    with pytest.raises(ValueError, match=r"image file 'nope\.png' does not exist"):
        image_features([np.zeros((4, 4)), "nope.png"])
    with pytest.raises(ValueError, match="image row 1 is missing"):
        image_features([np.zeros((4, 4)), None])


def test_dataset_image_features_are_the_default_and_cached_per_version() -> None:
    imgs, y = stripes(40)
    ds = dataset(pd.DataFrame({"img": imgs, "label": NAMES[y]}))
    assert ds.roles["img"] == "image"
    X, used = dataset_feature_matrix(ds)
    assert used == ["img"] and X.shape == (40, HOG_DIMS + 3 * BINS + 3 * THUMB * THUMB)
    assert np.array_equal(X, image_features(imgs))
    first = dataset_image_features(ds, "img")
    assert dataset_image_features(ds, "img") is first  # computed once for this version
    ds.remove([0])
    again = dataset_image_features(ds, "img")
    assert again is not first and np.array_equal(again, first[1:])
    # beside other features, the image's features are added
    ds2 = dataset(pd.DataFrame({"img": imgs, "size": np.arange(40.0), "label": NAMES[y]}))
    X2, used2 = dataset_feature_matrix(ds2)
    assert used2 == ["size", "img"] and np.array_equal(X2[:, 1:], X)


def test_pixel_columns_beside_the_image_are_its_features() -> None:
    """sklearn's digits as a frame: 64 pixel columns and the 8x8 image; the pixel columns
    stay the features (no second copy of the image)."""
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 17, (8, 8)).astype(np.float64) for _ in range(30)]
    px = pd.DataFrame(np.stack([a.ravel() for a in imgs]), columns=[f"p{i}" for i in range(64)])
    df = px.assign(image=imgs, label=np.arange(30) % 3)
    ds = dataset(df, image="image")
    assert pixel_columns(ds, "image") == list(px.columns)
    X, used = dataset_feature_matrix(ds)
    assert used == list(px.columns) and X.shape == (30, 64)
    # one pixel column changed: no longer the image's pixels, so the image is read too
    df2 = df.assign(p5=df["p5"] + 1)
    assert pixel_columns(dataset(df2, image="image"), "image") == []


def test_an_embedding_column_is_used_as_features() -> None:
    """A user's CLIP or ResNet vectors: a column of 1-D arrays (role "embedding")."""
    rng = np.random.default_rng(3)
    n = 300
    y = np.arange(n) % 3
    centres = rng.normal(0, 1, (3, 16)) * 3
    emb = [centres[k] + rng.normal(0, 1, 16) for k in y]
    imgs, _ = stripes(n, seed=3)
    flip = rng.choice(n, 30, replace=False)
    lab = y.copy()
    lab[flip] = (y[flip] + 1) % 3
    ds = dataset(pd.DataFrame({"img": imgs, "emb": emb, "label": lab}))
    assert ds.roles["emb"] == "embedding"
    X, used = dataset_feature_matrix(ds, ["emb"])
    assert used == ["emb"] and np.array_equal(X, np.stack(emb))
    issues = ds.find_label_issues(features=["emb"], progress=False).frame
    assert issues.attrs["features"] == ["emb"]
    flagged = set(issues.index[issues["is_issue"]].tolist())
    assert f1(flagged, set(np.asarray(ds.ids)[flip].tolist())) > 0.8


# ---------------------------------------------------------------------------- operations
def test_label_issues_on_images_find_flipped_labels_where_thumbnails_cannot() -> None:
    n = 400
    imgs, y = stripes(n, seed=0)
    rng = np.random.default_rng(10)
    flip = rng.choice(n, n // 10, replace=False)
    lab = NAMES[y].astype(object)
    lab[flip] = NAMES[(y[flip] + rng.integers(1, 4, len(flip))) % 4]
    ds = dataset(pd.DataFrame({"img": imgs, "label": lab}))
    truth = set(np.asarray(ds.ids)[flip].tolist())
    issues = ds.find_label_issues(progress=False).frame
    assert issues.attrs["features"] == ["img"]
    hog_f1 = f1(set(issues.index[issues["is_issue"]].tolist()), truth)
    # the 8x8 thumbnails alone (the texture averaged away) as a user's vectors
    thumbs = [im.reshape(8, 4, 8, 4, 3).mean(axis=(1, 3)).ravel() for im in imgs]
    small = dataset(pd.DataFrame({"px": thumbs, "label": lab}))
    found = small.find_label_issues(progress=False).frame
    px_f1 = f1(set(found.index[found["is_issue"]].tolist()), truth)
    assert hog_f1 >= 0.9 and hog_f1 > px_f1 + 0.2, (hog_f1, px_f1)


@pytest.mark.parametrize("kind", ["array", "png", "path"])
def test_near_copies_and_a_black_outlier_in_an_image_set(kind: str, tmp_path: Path) -> None:
    imgs, y = stripes(120, seed=5)
    rng = np.random.default_rng(6)
    imgs[100] = imgs[3].copy()  # an exact copy
    near = imgs[7].astype(np.int16) + rng.integers(-3, 4, imgs[7].shape)
    imgs[101] = np.clip(near, 0, 255).astype(np.uint8)  # a near copy
    y[100], y[101] = y[3], y[7]
    imgs[60] = np.zeros_like(imgs[0])  # all black

    def cell(i: int, a: np.ndarray) -> Any:
        if kind == "png":
            return png(a)
        if kind == "path":
            p = tmp_path / f"{i}.png"
            Image.fromarray(a).save(p)
            return str(p)
        return a

    ds = dataset(pd.DataFrame({"img": [cell(i, a) for i, a in enumerate(imgs)], "label": NAMES[y]}))
    dup = ds.find_duplicates(near=True, progress=False).frame
    flagged = set(dup.index[dup["is_duplicate"]].tolist())
    assert flagged == {100, 101}, sorted(flagged)
    out = ds.find_outliers(progress=False).frame
    assert out["is_outlier"].loc[60]
    assert int(out["is_outlier"].sum()) <= 3


# ---------------------------------------------------------------------------- augmentation
def test_augment_updates_the_pixel_columns_and_the_image_features() -> None:
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 17, (8, 8)).astype(np.int64) for _ in range(12)]
    px = pd.DataFrame(np.stack([a.ravel() for a in imgs]), columns=[f"p{i}" for i in range(64)])
    ds = dataset(px.assign(image=imgs, label=np.arange(12) % 3), image="image")
    made = ds.augment(["shift", "noise"], ids=[0, 1, 2], n=2, random_state=1)
    assert ds.history.changes.iloc[-1].params["pixel_columns_updated"] == 64
    rows = ds.take(made)
    flat = np.stack([np.asarray(v).ravel() for v in rows["image"]])
    assert np.array_equal(rows[list(px.columns)].to_numpy(), flat)
    src = ds.take([0, 0, 1, 1, 2, 2])
    assert not np.array_equal(rows[list(px.columns)].to_numpy(), src[list(px.columns)].to_numpy())
    # the made rows are marked as augmented, with their source (the grid's origin column)
    origins = ds.origins.loc[list(made)]
    assert origins["origin"].tolist() == ["augmented:shift+noise"] * 6
    assert origins["source_id"].tolist() == [0, 0, 1, 1, 2, 2]

    # image only: the features of made rows are computed from their own images
    stripes_imgs, y = stripes(12)
    ds2 = dataset(pd.DataFrame({"img": stripes_imgs, "label": NAMES[y]}))
    new = ds2.augment({"name": "rotate", "degrees": 30}, ids=[0, 1], random_state=2)
    X, _ = dataset_feature_matrix(ds2)
    pos = ds2.positions(new)
    assert np.array_equal(X[pos], image_features(list(ds2.take(new)["img"])))
    assert not np.array_equal(X[pos], X[ds2.positions([0, 1])])


def test_augmenting_encoded_images_says_it_cannot() -> None:
    imgs, y = stripes(6)
    ds = dataset(pd.DataFrame({"img": [png(a) for a in imgs], "label": NAMES[y]}))
    with pytest.raises(ValueError, match="decode bytes, paths or PIL images to arrays"):
        ds.augment("shift")
    assert ds.version == 0


def test_without_scikit_image_a_gradient_histogram_stands_in_said_once() -> None:
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "skimage" or name.startswith("skimage."):
                    raise ImportError("scikit-image is not installed (blocked by the test)")

        sys.meta_path.insert(0, Block())
        import numpy as np
        from dcai_jupyter.ops._image_features import image_features
        rng = np.random.default_rng(0)
        imgs = [rng.integers(0, 256, (32, 32), dtype=np.uint8) for _ in range(3)]
        a = image_features(imgs)
        b = image_features(imgs)
        assert a.shape == (3, 144 + 8 + 64) and np.array_equal(a, b) and np.isfinite(a).all()
        assert not np.allclose(a[0, :144], a[1, :144])
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("scikit-image is not installed") == 1
    assert "pip install 'dcai-jupyter[image]'" in r.stdout


def test_images_beside_categories_and_missing_values_are_read_too() -> None:
    """A mixed table (a category with missing values) and an image column: the mixed
    encoding carries the image's features, and the flipped labels are found."""
    n = 400
    imgs, y = stripes(n, seed=2)
    rng = np.random.default_rng(4)
    camera = rng.choice(["a", "b", "c", None], n).astype(object)  # says nothing of the label
    flip = rng.choice(n, 40, replace=False)
    lab = NAMES[y].astype(object)
    lab[flip] = NAMES[(y[flip] + 2) % 4]
    ds = dataset(pd.DataFrame({"img": imgs, "camera": camera, "label": lab}))
    issues = ds.find_label_issues(progress=False).frame
    assert issues.attrs["features"] == ["camera", "img"]
    flagged = set(issues.index[issues["is_issue"]].tolist())
    assert f1(flagged, set(np.asarray(ds.ids)[flip].tolist())) >= 0.9


def test_augmenting_images_says_which_vectors_keep_the_source_values(capsys) -> None:
    imgs, y = stripes(8)
    emb = [np.full(4, float(i)) for i in range(8)]
    ds = dataset(pd.DataFrame({"img": imgs, "emb": emb, "label": NAMES[y]}))
    made = ds.augment("flip", ids=[0, 1], random_state=0)
    said = capsys.readouterr().out
    assert "augmented rows keep their source's 'emb'" in said and "recompute" in said
    assert ds.history.changes.iloc[-1].params["kept_from_source"] == ["emb"]
    assert np.array_equal(np.stack(ds.take(made)["emb"]), np.stack(emb[:2]))
    ds2 = dataset(pd.DataFrame({"x": np.arange(8.0), "emb": emb, "label": NAMES[y]}))
    ds2.augment("jitter", ids=[0])
    assert "keep their source" not in capsys.readouterr().out
