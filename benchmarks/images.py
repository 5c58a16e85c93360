"""Images without weights (issue 18): the default image features against raw pixels.

Two generated image sets where the class is in the shape or texture, not in a fixed
pixel position: fine stripes at four angles (random phase, period, contrast, tint) and a
disc, a square or a cross at random positions, sizes and colours (32x32 RGB, uint8). For
each, 10 % of labels flipped uniformly; then

- label-issue F1 with the default image features (HOG, colour histogram, 8x8 pixels),
  with the 8x8 thumbnails alone and with the raw flattened pixels (what an image-only
  dataset used before: the reference, measured in the same run);
- near-duplicate and outlier F1 after injecting 10 near copies (pixels +-3) and 5 blank
  images (black or white);
- the time to compute the features per 1,000 images.

Numbers are printed, never asserted.

    .venv/bin/python benchmarks/images.py [--n 600] [--seeds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import dcai_jupyter as dj
from dcai_jupyter.ops._image_features import image_features

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _images import f1, shapes, stripes  # the one copy, shared with the tests


def frames(imgs: list[np.ndarray], labels: np.ndarray) -> dict[str, pd.DataFrame]:
    return {
        "image features": pd.DataFrame({"img": imgs, "label": labels}),
        "8x8 thumbnails": pd.DataFrame(
            {
                "px": [im.reshape(8, 4, 8, 4, 3).mean(axis=(1, 3)).ravel() for im in imgs],
                "label": labels,
            }
        ),
        "raw pixels (ref)": pd.DataFrame(
            {"raw": [im.astype(np.float64).ravel() / 255 for im in imgs], "label": labels}
        ),
    }


def label_issues(make, n: int, seeds: int) -> None:
    scores: dict[str, list[float]] = {}
    times: dict[str, list[float]] = {}
    for seed in range(seeds):
        imgs, y = make(n, seed)
        rng = np.random.default_rng(seed + 100)
        k = int(y.max()) + 1
        flip = rng.choice(n, n // 10, replace=False)
        lab = y.copy()
        lab[flip] = (y[flip] + rng.integers(1, k, len(flip))) % k
        for name, df in frames(imgs, lab).items():
            ds = dj.Dataset(df, label="label")
            t = time.perf_counter()
            fr = ds.find_label_issues(progress=False).frame
            times.setdefault(name, []).append(time.perf_counter() - t)
            got = set(fr.index[fr["is_issue"]].tolist())
            scores.setdefault(name, []).append(f1(got, set(np.asarray(ds.ids)[flip].tolist())))
    ref = float(np.mean(scores["raw pixels (ref)"]))
    for name, s in scores.items():
        print(
            f"  label issues  {name:18s} F1 {np.mean(s):.3f} (seeds {', '.join(f'{v:.2f}' for v in s)}; "
            f"{np.mean(s) - ref:+.3f} vs raw)  {np.mean(times[name]):.1f} s"
        )


def remove(make, n: int) -> None:
    imgs, y = make(n, 7)
    rng = np.random.default_rng(7)
    src = rng.choice(n, 10, replace=False)
    copies = [
        np.clip(imgs[i].astype(np.int16) + rng.integers(-3, 4, imgs[i].shape), 0, 255).astype(
            np.uint8
        )
        for i in src
    ]
    blanks = [np.full_like(imgs[0], 0 if j % 2 else 255) for j in range(5)]
    all_imgs = imgs + copies + blanks
    labels = np.concatenate([y, y[src], np.zeros(5, dtype=y.dtype)])
    dup_truth = set(range(n, n + 10))
    out_truth = set(range(n + 10, n + 15))
    for name, df in frames(all_imgs, labels).items():
        ds = dj.Dataset(df, label="label")
        d = ds.find_duplicates(near=True, progress=False).frame
        o = ds.find_outliers(progress=False).frame
        dups = set(d.index[d["is_duplicate"]].tolist())
        # the 5 blanks: two identical pairs among themselves are copies too; count them apart
        dup_f1 = f1(dups - out_truth, dup_truth)
        outs = set(o.index[o["is_outlier"]].tolist())
        print(
            f"  remove        {name:18s} near-copy F1 {dup_f1:.3f} ({len(dups - out_truth)} "
            f"flagged)  outlier F1 {f1(outs, out_truth):.3f} ({len(outs)} flagged)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore", UserWarning)
    imgs, _ = stripes(1000, 0)
    image_features(imgs[:10])  # imports apart
    t, c = time.perf_counter(), time.process_time()
    image_features(imgs)
    feat, feat_cpu = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter()
    np.stack([im.astype(np.float64).ravel() for im in imgs])
    flat = time.perf_counter() - t
    print(
        f"image features: {feat:.2f} s wall, {feat_cpu:.2f} s CPU per 1,000 32x32 RGB images "
        f"(flattening: {flat:.3f} s)"
    )
    for name, make in (("stripes at 4 angles", stripes), ("disc / square / cross", shapes)):
        print(f"{name}, n={args.n}, 10 % uniform label noise, {args.seeds} seeds")
        label_issues(make, args.n, args.seeds)
        remove(make, args.n)


if __name__ == "__main__":
    main()
