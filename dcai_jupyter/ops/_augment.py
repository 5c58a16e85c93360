"""Modify data: augmented copies of samples, each pointing to the sample it was made from.

``Augment`` is the operation behind ``ds.augment(transform, ids=, n=)``. It takes the source
rows, makes ``n`` copies of each, runs the transform(s) on the copies and adds them as one
recorded change. Every new row carries the origin ``augmented:<transform names>`` and its
source sample id (``ds.origins``), so the grid can show and filter them and
``ds.remove_augmented()`` takes them all out again in one change.

Transforms are built-ins by name (see :mod:`dcai_jupyter.ops._transforms`: ``jitter``,
``shift``, ``rotate``, ``flip``, ``noise``, ``token_dropout``, ``token_swap``,
``char_noise``), a dict ``{"name": "jitter", "scale": 0.1}`` with a built-in's parameters,
or a module-level function ``fn(rows, rng) -> rows``; a list applies them in order. A
transform must keep the columns, dtypes, row count and labels and must not produce missing
values: otherwise the error names it and nothing is recorded. Columns holding an image's
pixels flattened are set from the transformed image (see :mod:`._transforms`); the image
features of the new rows are computed from their own images. In-place repairs of existing
rows go through ``ds.update(ids, column, values)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._base import Operation, Selection, register
from ._transforms import Context, check_output, resolve_transforms, sync_pixels

if TYPE_CHECKING:  # pragma: no cover
    from ..core import ChangePlan, Dataset, Findings

__all__ = ["Augment"]

#: rows with these origins are not augmented again unless their ids are given
DERIVED = ("synthetic", "augmented")
#: transforms run on batches of at most this many rows (the progress bar advances per batch)
BATCH = 1024


@register
class Augment(Operation):
    """Add ``n`` transformed copies of each source sample; one recorded change.

    Parameters
    ----------
    transform
        A built-in name, a dict ``{"name": ..., **params}``, a module-level function
        ``fn(rows, rng) -> rows``, or a list of those (composed in order).
    n
        Copies per source sample.
    random_state
        Seed of the transforms' random generator: the same data and parameters give the
        same rows.
    progress
        Show a progress line: per batch of 1024 rows made, then per 50,000 rows recorded
        (encoded for the history) on the same line.

    Notes
    -----
    The apply option ``ids`` names the source samples (default: every labeled row that is
    not itself synthetic or augmented). Transforms are called on batches of at most
    1024 rows, in order, with one random generator.
    """

    name = "augment"
    change_op = "augment"
    action = "review"
    needs_findings = False
    selectors = ("ids",)
    adds_rows = True

    def __init__(
        self, *, transform: Any, n: int = 1, random_state: int | None = 0, progress: bool = True
    ) -> None:
        self.transform = transform
        self.n = n
        self.random_state = random_state
        self.progress = progress

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small cases for the operations conformance test (``tests/test_operations.py``)."""
        import pandas as pd

        rng = np.random.default_rng(0)
        n = 12
        words = "the quick brown fox jumps over the lazy dog again and again".split()
        frame = pd.DataFrame(
            {
                "x": rng.normal(size=n),
                "k": rng.integers(0, 50, n).astype(np.int64),
                "img": [rng.integers(0, 256, (6, 6), dtype=np.uint8) for _ in range(n)],
                "note": [" ".join(rng.choice(words, 8)) for _ in range(n)],
                "y": ["a", "b", "c"] * (n // 3),
            }
        )
        ds_kw = {"label": "y", "image": "img", "text": "note"}
        return [
            {
                "frame": frame,
                "dataset": ds_kw,
                "operation": cls(transform=["jitter", "shift", "token_swap"], n=2, random_state=0),
                "options": {"ids": [0, 1, 2]},
                "name": "numbers, image and text composed",
            },
            {
                "frame": frame,
                "dataset": ds_kw,
                "operation": cls(
                    transform=[{"name": "rotate", "degrees": 10}, "noise", "char_noise"],
                    random_state=3,
                ),
                "name": "every labeled row",
            },
        ]

    def origin(self) -> str:
        """The origin tag of the rows this operation makes (``augmented:shift+noise``)."""
        return "augmented:" + "+".join(s.name for s in resolve_transforms(self.transform))

    def _sources(self, ds: Dataset, ids: Any) -> np.ndarray:
        if ids is None:
            labels = ds.column(ds.label)
            import pandas as pd

            labeled = ~pd.isna(pd.Series(labels, dtype=object)).to_numpy()
            derived = {int(i) for o in DERIVED for i in ds.ids_with_origin(o)}
            src = np.asarray(
                [
                    i
                    for i, ok in zip(ds.ids.tolist(), labeled, strict=True)
                    if ok and i not in derived
                ],
                dtype=np.int64,
            )
            if len(src) == 0:
                raise ValueError(
                    "no row to augment: the dataset has no labeled row that is not synthetic "
                    "or augmented already; pass ids= to choose rows"
                )
            return src
        if isinstance(ids, (str, bytes)) or np.ndim(ids) != 1:
            raise ValueError("ids must be a 1-D list of sample ids")
        src = np.asarray(ids)
        if len(src) == 0:
            raise ValueError("ids is empty: name the samples to augment")
        if src.dtype.kind not in "iu":
            raise ValueError(f"ids must be integer sample ids; got {src.dtype}")
        src = src.astype(np.int64)
        uniq, counts = np.unique(src, return_counts=True)
        if (counts > 1).any():
            raise ValueError(
                f"ids repeat {uniq[counts > 1][:10].tolist()}; pass each sample once and use n= "
                "for more copies"
            )
        ds.positions(src)  # KeyError naming unknown ids
        return src

    def _plan(
        self, ds: Dataset, findings: Findings | None, plan: ChangePlan, select: Selection
    ) -> dict[str, Any]:
        """Add ``n`` transformed copies of samples: one recorded change.

        Returns
        -------
        np.ndarray
            The new rows' sample ids. Each carries the origin ``augmented:<names>`` and its
            source sample id (``ds.origins``); ``ds.remove_augmented()`` removes them all.

        Raises
        ------
        ValueError
            A transform that changes the columns, dtypes, row count or labels, or returns
            missing values (the error names it; nothing is recorded); unknown transform
            names; a transform with no column to act on.
        """
        ids = select.ids
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or self.n < 1:
            raise ValueError(f"n (copies per sample) must be a positive integer; got {self.n!r}")
        steps = resolve_transforms(self.transform)
        if len(ds) == 0:
            raise ValueError("the dataset is empty: there is nothing to augment")
        src = self._sources(ds, ids)
        rep = np.repeat(src, int(self.n))
        import pandas as pd

        from ._progress import progress_bar

        rows = ds.take(rep)
        ctx = Context.of(ds)
        rng = np.random.default_rng(self.random_state)
        origin = "augmented:" + "+".join(s.name for s in steps)
        starts = range(0, len(rows), BATCH)
        done = []
        show = bool(self.progress) and len(starts) > 1
        with progress_bar(total=len(rows), desc=origin, disable=not show) as bar:
            bar.set_postfix_str("making rows")
            for start in starts:
                batch = rows.iloc[start : start + BATCH]
                for step in steps:
                    out = step(batch.copy(), rng, ctx)
                    batch = check_output(batch, out, repr(step.name), ds.label)
                done.append(sync_pixels(batch, ctx))
                bar.update(len(batch))
            rows = pd.concat(done) if len(done) > 1 else done[0]
            # the second stage on the same line: encoding the rows for the history takes
            # about as long as making them (13 s of 27 s for a million rows of 20 floats)
            bar.reset(total=len(rows))
            bar.set_postfix_str("recording rows")
            plan.add(
                rows.reset_index(drop=True),
                origin=origin,
                source_ids=rep.tolist(),
                progress=bar.update,
            )
        stale = _stale_vectors(ds, steps)
        if stale:
            shown = ", ".join(repr(c) for c in stale)
            # stdout: said once per call, plainly (a warning shows as a pink box in Jupyter)
            print(
                f"dcai_jupyter: the augmented rows keep their source's {shown} (vectors "
                "computed from the image elsewhere cannot be recomputed here); recompute "
                "them with your model, or set them in a transform function of your own"
            )
        return {
            "origin": origin,
            "n_sources": len(src),
            "added": len(rep),
            "pixel_columns_updated": len(ctx.pixels),
            "kept_from_source": stale,
        }


#: the built-in transforms that change the image
IMAGE_TRANSFORMS = frozenset({"shift", "rotate", "flip", "noise"})


def _stale_vectors(ds: Dataset, steps: list[Any]) -> list[str]:
    """The embedding columns (a user's CLIP or ResNet vectors, most likely of the image)
    that an image transform leaves as the source's, or ``[]``."""
    if not any(s.builtin is not None and s.name in IMAGE_TRANSFORMS for s in steps):
        return []
    roles = getattr(ds, "roles", None)
    return list(roles.of("embedding")) if roles is not None else []
