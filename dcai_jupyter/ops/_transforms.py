"""Built-in augmentation transforms, by name, and the checks every transform's output passes.

A transform takes a frame of rows (copies of the source samples, the dataset's columns) and a
``numpy.random.Generator`` and returns a frame of the same rows, same columns and same
dtypes, with some values changed. Built-ins (strength parameters in brackets; pass
``{"name": "jitter", "scale": 0.1}`` to change one):

numeric feature columns
    ``jitter`` (``scale=0.05``): gaussian noise with standard deviation ``scale`` times the
    column's standard deviation over the dataset (integer columns are rounded; booleans
    are left alone).
images (2-D arrays, or 3-D with channels last), in the dataset's image column
    ``shift`` (``fraction=0.1``): move by up to ``fraction`` of each side, edges repeated;
    ``rotate`` (``degrees=15``): turn by up to ``degrees`` either way (bilinear, edges
    repeated); ``flip`` (``axis="horizontal"`` or ``"vertical"``; only when asked: it
    changes the meaning of digits and text); ``noise`` (``sigma=0.05``): gaussian noise
    with ``sigma`` times the column's value range. Values stay in the column's range and
    dtype. Numeric columns that hold the image's pixels flattened (sklearn's digits as a
    frame: 64 columns beside the 8x8 image) are set from the new image after every
    transform, any transform; the image features the operations compute (HOG, colour
    histogram, downscaled pixels) are computed from each row's own image. Other columns
    computed from the image (a brightness, a user's embedding) cannot be recomputed here:
    they keep the source sample's values (embedding columns are named in a notice), so set
    them in a transform function of your own.
    Images held as bytes, paths or PIL images cannot be transformed (the error says so).
text, in the dataset's text column
    ``token_dropout`` (``p=0.1``): drop each whitespace token with probability ``p`` (at
    least one stays); ``token_swap`` (``p=0.1``): swap about ``p`` times the number of
    tokens adjacent pairs; ``char_noise`` (``p=0.03``): each letter or digit is, with
    probability ``p``, replaced, deleted, doubled or swapped with the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._params import register_transform

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = ["BUILTIN_TRANSFORMS", "TransformError", "resolve_transforms"]

Rows = pd.DataFrame
TransformFn = Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]


class TransformError(ValueError):
    """A transform that cannot run on this data, or whose output breaks the schema."""


# ---------------------------------------------------------------------------- context
@dataclass
class Context:
    """What the built-ins need to know about the dataset (computed once per augment)."""

    label: str
    numeric: list[str] = field(default_factory=list)
    integer: set[str] = field(default_factory=set)
    std: dict[str, float] = field(default_factory=dict)
    image: str | None = None
    image_range: tuple[float, float] = (0.0, 1.0)
    #: numeric columns holding the image's pixels flattened (kept equal to the image)
    pixels: list[str] = field(default_factory=list)
    text: str | None = None

    @classmethod
    def of(cls, ds: Dataset) -> Context:
        ctx = cls(label=ds.label)
        for c in ds.feature_columns:
            if c == ds.label:
                continue
            arr = ds.column(c)
            if arr.dtype.kind in "iuf":
                values = arr.astype(np.float64)
                ctx.numeric.append(c)
                if arr.dtype.kind in "iu":
                    ctx.integer.add(c)
                finite = values[np.isfinite(values)]
                ctx.std[c] = float(finite.std()) if len(finite) > 1 else 0.0
        img = ds.image_column
        if img is not None:
            cells = [v for v in ds.column(img) if isinstance(v, np.ndarray)]
            if cells and all(v.ndim in (2, 3) for v in cells):
                ctx.image = img
                ctx.image_range = (
                    float(min(np.nanmin(v) for v in cells)),
                    float(max(np.nanmax(v) for v in cells)),
                )
                from ._image_features import pixel_columns

                ctx.pixels = pixel_columns(ds, img)
        ctx.text = ds.text_column
        return ctx


# ---------------------------------------------------------------------------- numeric
def jitter(rows: Rows, rng: np.random.Generator, ctx: Context, *, scale: float = 0.05) -> Rows:
    if not ctx.numeric:
        raise TransformError(
            "'jitter' adds noise to numeric feature columns, and this dataset has none; use "
            "an image or text transform, or your own function"
        )
    dtypes = rows.dtypes
    if not all(isinstance(dtypes[c], np.dtype) for c in ctx.numeric):
        out = rows.copy()  # a nullable (extension) column: column by column
        for c in ctx.numeric:
            v = out[c].to_numpy(dtype=np.float64)
            new = v + rng.normal(0.0, scale * ctx.std[c], size=len(v))
            if c in ctx.integer:
                new = np.rint(new)
            out[c] = pd.Series(new, index=out.index).astype(out[c].dtype)
        return out
    # numpy columns: one matrix, the same draws in the same order (column by column), and
    # the frame built once (a column set at a time costs more than the noise on 1024 rows)
    block = rows[ctx.numeric].to_numpy(dtype=np.float64, copy=True)
    for j, c in enumerate(ctx.numeric):
        new = block[:, j] + rng.normal(0.0, scale * ctx.std[c], size=len(block))
        block[:, j] = np.rint(new) if c in ctx.integer else new
    at = {c: j for j, c in enumerate(ctx.numeric)}
    data = {c: block[:, at[c]].astype(dtypes[c]) if c in at else rows[c] for c in rows.columns}
    return pd.DataFrame(data, index=rows.index, columns=rows.columns)


# ---------------------------------------------------------------------------- images
def _image_rows(rows: Rows, ctx: Context, name: str) -> str:
    if ctx.image is None:
        raise TransformError(
            f"{name!r} transforms images held as 2-D/3-D numpy arrays in the dataset's image "
            "column, and this dataset has none (decode bytes, paths or PIL images to arrays "
            "first, and pass image= to the Dataset)"
        )
    return ctx.image


def _spatial(img: np.ndarray) -> tuple[int, int]:
    """The height and width axes: (0, 1), or (1, 2) for channels-first 3-D arrays."""
    if img.ndim == 3 and img.shape[0] <= 4 < img.shape[2]:
        return 1, 2
    return 0, 1


def _cast(img: np.ndarray, dtype: np.dtype, lo: float, hi: float) -> np.ndarray:
    out = np.clip(img, lo, hi)
    if np.dtype(dtype).kind in "iub":
        out = np.rint(out)
    out = out.astype(dtype)
    out.flags.writeable = False
    return out


def _map_images(
    rows: Rows, ctx: Context, name: str, fn: Callable[[np.ndarray], np.ndarray]
) -> Rows:
    col = _image_rows(rows, ctx, name)
    lo, hi = ctx.image_range
    out = rows.copy()
    cells = np.empty(len(out), dtype=object)
    for i, v in enumerate(out[col].to_numpy(dtype=object)):
        cells[i] = (
            _cast(fn(np.asarray(v, dtype=np.float64)), v.dtype, lo, hi)
            if isinstance(v, np.ndarray)
            else v
        )
    out[col] = pd.Series(cells, index=out.index, dtype=out[col].dtype)
    return out


def shift(rows: Rows, rng: np.random.Generator, ctx: Context, *, fraction: float = 0.1) -> Rows:
    def one(img: np.ndarray) -> np.ndarray:
        ay, ax = _spatial(img)
        h, w = img.shape[ay], img.shape[ax]
        my, mx = max(1, round(fraction * h)), max(1, round(fraction * w))
        dy, dx = int(rng.integers(-my, my + 1)), int(rng.integers(-mx, mx + 1))
        pad = [(0, 0)] * img.ndim
        pad[ay], pad[ax] = (my, my), (mx, mx)
        big = np.pad(img, pad, mode="edge")
        sl = [slice(None)] * img.ndim
        sl[ay] = slice(my - dy, my - dy + h)
        sl[ax] = slice(mx - dx, mx - dx + w)
        return big[tuple(sl)]

    return _map_images(rows, ctx, "shift", one)


def rotate(rows: Rows, rng: np.random.Generator, ctx: Context, *, degrees: float = 15.0) -> Rows:
    from scipy import ndimage

    def one(img: np.ndarray) -> np.ndarray:
        angle = float(rng.uniform(-degrees, degrees))
        return ndimage.rotate(
            img, angle, axes=_spatial(img), reshape=False, order=1, mode="nearest"
        )

    return _map_images(rows, ctx, "rotate", one)


def flip(rows: Rows, rng: np.random.Generator, ctx: Context, *, axis: str = "horizontal") -> Rows:
    if axis not in ("horizontal", "vertical"):
        raise TransformError(f"flip axis must be 'horizontal' or 'vertical'; got {axis!r}")

    def one(img: np.ndarray) -> np.ndarray:
        ay, ax = _spatial(img)
        return np.flip(img, axis=ax if axis == "horizontal" else ay)

    return _map_images(rows, ctx, "flip", one)


def noise(rows: Rows, rng: np.random.Generator, ctx: Context, *, sigma: float = 0.05) -> Rows:
    lo, hi = ctx.image_range

    def one(img: np.ndarray) -> np.ndarray:
        return img + rng.normal(0.0, sigma * (hi - lo), size=img.shape)

    return _map_images(rows, ctx, "noise", one)


def sync_pixels(rows: Rows, ctx: Context) -> Rows:
    """``rows`` with the pixel columns (``ctx.pixels``) set from each row's image again.

    A transform that moved the pixels of the image leaves the columns holding them
    flattened equal to it (cast to each column's dtype, integers rounded).
    """
    if not ctx.pixels or ctx.image is None:
        return rows
    cells = rows[ctx.image].to_numpy(dtype=object)
    if len(cells) == 0:
        return rows
    flat = np.stack([np.asarray(v, dtype=np.float64).ravel() for v in cells])
    if flat.shape[1] != len(ctx.pixels):
        raise TransformError(
            f"the images now hold {flat.shape[1]} pixels, and {len(ctx.pixels)} columns hold "
            "them flattened; a transform must keep the image's shape"
        )
    out = rows.copy()
    for j, c in enumerate(ctx.pixels):
        dtype = out[c].dtype
        v = flat[:, j]
        if np.dtype(dtype).kind in "iub":
            v = np.rint(v)
        out[c] = pd.Series(v, index=out.index).astype(dtype)
    return out


# ---------------------------------------------------------------------------- text
def _map_text(rows: Rows, ctx: Context, name: str, fn: Callable[[str], str]) -> Rows:
    col = ctx.text
    if col is None:
        raise TransformError(
            f"{name!r} transforms text, and this dataset has no text column (pass text= to "
            "the Dataset)"
        )
    out = rows.copy()
    values = [fn(v) if isinstance(v, str) else v for v in out[col].to_numpy(dtype=object)]
    out[col] = pd.Series(values, index=out.index, dtype=object).astype(out[col].dtype)
    return out


def token_dropout(rows: Rows, rng: np.random.Generator, ctx: Context, *, p: float = 0.1) -> Rows:
    def one(text: str) -> str:
        tokens = text.split()
        if len(tokens) < 2:
            return text
        keep = rng.random(len(tokens)) >= p
        if not keep.any():
            keep[int(rng.integers(len(tokens)))] = True
        return " ".join(t for t, k in zip(tokens, keep, strict=True) if k)

    return _map_text(rows, ctx, "token_dropout", one)


def token_swap(rows: Rows, rng: np.random.Generator, ctx: Context, *, p: float = 0.1) -> Rows:
    def one(text: str) -> str:
        tokens = text.split()
        if len(tokens) < 2:
            return text
        for _ in range(max(1, round(p * len(tokens)))):
            i = int(rng.integers(len(tokens) - 1))
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        return " ".join(tokens)

    return _map_text(rows, ctx, "token_swap", one)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def char_noise(rows: Rows, rng: np.random.Generator, ctx: Context, *, p: float = 0.03) -> Rows:
    def one(text: str) -> str:
        chars = list(text)
        hits = rng.random(len(chars)) < p
        ops = rng.integers(0, 4, size=len(chars))
        subs = rng.integers(0, len(_LETTERS), size=len(chars))
        out: list[str] = []
        i = 0
        while i < len(chars):
            ch = chars[i]
            if hits[i] and ch.isalnum():
                op = ops[i]
                if op == 0:
                    out.append(_LETTERS[subs[i]])
                elif op == 1:
                    pass  # delete
                elif op == 2:
                    out.extend((ch, ch))
                elif i + 1 < len(chars):
                    out.extend((chars[i + 1], ch))
                    i += 1
                else:
                    out.append(ch)
            else:
                out.append(ch)
            i += 1
        return "".join(out) or text

    return _map_text(rows, ctx, "char_noise", one)


BUILTIN_TRANSFORMS: dict[str, Callable[..., Rows]] = {
    "jitter": jitter,
    "shift": shift,
    "rotate": rotate,
    "flip": flip,
    "noise": noise,
    "token_dropout": token_dropout,
    "token_swap": token_swap,
    "char_noise": char_noise,
}
# recorded and replayed by these names when passed as functions (see _params)
for _name, _fn in BUILTIN_TRANSFORMS.items():
    register_transform(_fn, name=_name)


# ---------------------------------------------------------------------------- resolve
@dataclass
class Step:
    """One resolved transform: its name (for the origin tag), and how to run it."""

    name: str
    builtin: Callable[..., Rows] | None
    params: dict[str, Any]
    user: TransformFn | None = None

    def __call__(self, rows: Rows, rng: np.random.Generator, ctx: Context) -> Rows:
        if self.builtin is not None:
            return self.builtin(rows, rng, ctx, **self.params)
        assert self.user is not None
        return self.user(rows, rng)


def _builtin(name: str, params: Mapping[str, Any]) -> Step:
    fn = BUILTIN_TRANSFORMS.get(name)
    if fn is None:
        raise ValueError(
            f"unknown transform {name!r}; the built-ins are {sorted(BUILTIN_TRANSFORMS)}, or "
            "pass a function fn(rows, rng) -> rows"
        )
    import inspect

    accepted = [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = [k for k in params if k not in accepted]
    if unknown:
        raise ValueError(f"transform {name!r} takes {accepted}; got unknown {unknown}")
    for k, v in params.items():
        if k != "axis" and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
            raise ValueError(f"transform {name!r}: {k} must be a non-negative number; got {v!r}")
    return Step(name, fn, dict(params))


def resolve_transforms(spec: Any) -> list[Step]:
    """The steps of a transform spec: a name, ``{"name": ..., **params}``, a function
    ``fn(rows, rng) -> rows``, or a list of those (applied in order)."""
    items = list(spec) if isinstance(spec, (list, tuple)) else [spec]
    if not items:
        raise ValueError("transform is an empty list: name at least one transform")
    steps = []
    for item in items:
        if isinstance(item, str):
            steps.append(_builtin(item, {}))
        elif isinstance(item, Mapping):
            params = dict(item)
            name = params.pop("name", None)
            if not isinstance(name, str):
                raise ValueError(
                    f"a transform given as a dict needs a 'name' (one of "
                    f"{sorted(BUILTIN_TRANSFORMS)}); got {item!r}"
                )
            steps.append(_builtin(name, params))
        elif callable(item):
            steps.append(Step(getattr(item, "__qualname__", type(item).__name__), None, {}, item))
        else:
            raise TypeError(
                f"a transform is a name, a dict with 'name', or a function fn(rows, rng) -> "
                f"rows; got {type(item).__name__}"
            )
    return steps


# ---------------------------------------------------------------------------- checks
def check_output(before: Rows, after: Any, step: str, label: str) -> Rows:
    """``after`` if it keeps ``before``'s schema, rows and labels and adds no missing value;
    else a :class:`TransformError` naming the transform and the column."""
    if not isinstance(after, pd.DataFrame):
        raise TransformError(
            f"transform {step} must return a DataFrame of the rows; got {type(after).__name__}"
        )
    if list(after.columns) != list(before.columns):
        if set(after.columns) != set(before.columns):
            missing = [c for c in before.columns if c not in after.columns]
            extra = [c for c in after.columns if c not in before.columns]
            raise TransformError(
                f"transform {step} changed the schema: missing columns {missing}, extra {extra}; "
                "a transform must return the same columns"
            )
        after = after[list(before.columns)]
    if len(after) != len(before):
        raise TransformError(
            f"transform {step} returned {len(after)} rows for {len(before)}; return one row per "
            "row given (use n= for more copies)"
        )
    after = after.set_axis(before.index)
    columns = list(before.columns)
    old_types, new_types = list(before.dtypes), list(after.dtypes)
    for c, was_t, now_t in zip(columns, old_types, new_types, strict=True):
        if str(now_t) != str(was_t):
            raise TransformError(
                f"transform {step} changed the schema: column {c!r} is {now_t}, was "
                f"{was_t}; cast the values back (e.g. round integers)"
            )
    old_lab = before[label].to_numpy(dtype=object)
    new_lab = after[label].to_numpy(dtype=object)
    same = pd.isna(pd.Series(old_lab, dtype=object)).to_numpy() | (old_lab == new_lab)
    if not same.all():
        raise TransformError(
            f"transform {step} changed {int((~same).sum())} labels; augmentation keeps each "
            "row's label (relabel separately)"
        )
    # values missing now that were not: the whole frame at once (a column at a time costs
    # more than the check on a batch of 1024 rows), then each column in order as before
    bad_all = after.isna().to_numpy() & ~before.isna().to_numpy()
    plain_float = [j for j, t in enumerate(new_types) if isinstance(t, np.dtype) and t.kind == "f"]
    if plain_float:  # infinities too, where the source was finite
        now_f = after.iloc[:, plain_float].to_numpy(dtype=np.float64)
        was_f = before.iloc[:, plain_float].to_numpy(dtype=np.float64)
        bad_all[:, plain_float] |= ~np.isfinite(now_f) & np.isfinite(was_f)
    for j, c in enumerate(columns):
        bad = bad_all[:, j]
        if old_types[j] == np.dtype(object):
            for i, (old, new) in enumerate(
                zip(before[c].to_numpy(), after[c].to_numpy(), strict=True)
            ):
                if isinstance(old, np.ndarray) != isinstance(new, np.ndarray):
                    raise TransformError(
                        f"transform {step} changed the schema: column {c!r} row {i} was "
                        f"{type(old).__name__}, now {type(new).__name__}"
                    )
                if isinstance(old, np.ndarray):
                    if old.shape != new.shape or old.dtype != new.dtype:
                        raise TransformError(
                            f"transform {step} changed the schema: column {c!r} holds "
                            f"{old.dtype} arrays of shape {old.shape}, got {new.dtype} {new.shape}"
                        )
                    if (
                        new.dtype.kind in "fc"
                        and not np.isfinite(new).all()
                        and np.isfinite(old).all()
                    ):
                        bad[i] = True
        elif new_types[j].kind == "f" and j not in plain_float:
            v = after[c].to_numpy(dtype=np.float64)
            bad |= ~np.isfinite(v) & np.isfinite(before[c].to_numpy(dtype=np.float64))
        if bad.any():
            raise TransformError(
                f"transform {step} returned NaN or missing values in column {c!r} "
                f"({int(bad.sum())} rows); nothing was recorded"
            )
    return after
