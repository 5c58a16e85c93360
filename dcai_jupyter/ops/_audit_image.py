"""Image issues, as cleanvision defines them: dark, light (overexposed), blurry, low
information, odd size, odd aspect ratio.

Every image is scored on properties in [0, 1] where low = the issue, flagged below a
threshold (cleanvision's defaults):

- ``dark``: the perceived brightness of the image's mean colour,
  ``sqrt(0.241 R^2 + 0.691 G^2 + 0.068 B^2) / 255`` (flagged below 0.22);
- ``light``: one minus that brightness (flagged below 0.05);
- ``blurry``: ``1 - exp(-0.001 * var(edges))``, the variance of the grey image's edge
  filter (the 3x3 kernel 8 at the centre, -1 around; flagged below 0.3). Unlike
  cleanvision, the grey image is first stretched to the full 0..255 range, so a dark or
  faded image with sharp detail is not also called blurry;
- ``low_information``: 0.1 times the entropy of the grey image's histogram in bits
  (flagged below 0.3);
- ``odd_aspect_ratio``: ``min(w / h, h / w)`` (flagged below 0.5);
- ``odd_size``: ``min(s / m, m / s)`` where ``s`` is the square root of the image's area
  and ``m`` its median over the dataset (flagged below 1 / ``size_ratio``).

Images may be arrays (H x W or H x W x C, any numeric type scaled to 0..255), PIL
images, PNG/JPEG bytes or file paths.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ._audit_context import finding_frame, in_audit, make_findings
from ._base import STAGE_BAR_ROWS, register
from ._progress import progress_bar
from ._removal import RemovalOperation

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset, Findings

__all__ = ["IMAGE_ISSUES", "ImageIssues", "image_properties"]

#: issue name -> default threshold (a property below it is the issue)
IMAGE_ISSUES = {
    "dark": 0.22,
    "light": 0.05,
    "blurry": 0.3,
    "low_information": 0.3,
    "odd_aspect_ratio": 0.5,
    "odd_size": 0.25,
}


def _pixels(cell: Any) -> np.ndarray:
    """An image cell as a float array (H, W, C) in 0..255."""
    if isinstance(cell, np.ndarray):
        arr = cell
    else:
        from PIL import Image

        img: Any
        if isinstance(cell, (bytes, bytearray)):
            img = Image.open(io.BytesIO(bytes(cell)))
        elif isinstance(cell, str):
            img = Image.open(cell)
        elif hasattr(cell, "convert") and hasattr(cell, "size"):
            img = cell
        else:
            raise TypeError(f"not an image: {type(cell).__name__}")
        if img.mode not in ("L", "RGB"):
            img = img.convert("RGB")
        arr = np.asarray(img)
    was_float = np.asarray(arr).dtype.kind == "f"
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"an image must be 2-D or 3-D; got shape {arr.shape}")
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if was_float and arr.size and float(np.nanmax(arr)) <= 1.0:
        arr = arr * 255.0
    return arr


def image_properties(cell: Any) -> dict[str, float]:
    """The raw properties of one image: brightness (0..1), edge variance, entropy (bits),
    width, height."""
    a = _pixels(cell)
    h, w = a.shape[:2]
    mean = a.reshape(-1, a.shape[2]).mean(axis=0) if a.size else np.zeros(3)
    r, g, b = (mean[0], mean[0], mean[0]) if len(mean) < 3 else mean[:3]
    bright = float(np.sqrt(0.241 * r * r + 0.691 * g * g + 0.068 * b * b) / 255.0)
    grey = a[:, :, 0] if a.shape[2] == 1 else a[:, :, :3] @ np.array([0.299, 0.587, 0.114])
    grey = np.clip(np.round(grey), 0, 255)
    if h >= 3 and w >= 3:
        # the edges of the grey image stretched to the full range, so that a dark (or
        # faded) image whose detail is sharp is not also called blurry
        lo, hi = float(grey.min()), float(grey.max())
        g = (grey - lo) * (255.0 / (hi - lo)) if hi > lo else grey * 0.0
        c = g[1:-1, 1:-1]
        around = (
            g[:-2, :-2]
            + g[:-2, 1:-1]
            + g[:-2, 2:]
            + g[1:-1, :-2]
            + g[1:-1, 2:]
            + g[2:, :-2]
            + g[2:, 1:-1]
            + g[2:, 2:]
        )
        edges = np.clip(8 * c - around, 0, 255)
        edge_var = float(edges.var())
    else:
        edge_var = 0.0
    hist = np.bincount(grey.astype(np.int64).ravel(), minlength=256).astype(float)
    p = hist[hist > 0] / max(hist.sum(), 1.0)
    entropy = float(-(p * np.log2(p)).sum())
    return {"brightness": bright, "edge_var": edge_var, "entropy": entropy, "width": w, "height": h}


@register
class ImageIssues(RemovalOperation):
    """Find dark, overexposed, blurry, low-information and oddly sized images; remove them.

    Parameters
    ----------
    issues
        The issues to check (default: all of ``IMAGE_ISSUES``).
    thresholds
        Per issue, the property value below which an image has it (default:
        cleanvision's, ``IMAGE_ISSUES``).
    column
        The image column (default: the dataset's image column).
    """

    name: ClassVar[str] = "image"
    change_op: ClassVar[str] = "remove_image_issues"
    action: ClassVar[str] = "remove"
    #: every flagged image goes (pick some in the grid, or ``ds.remove(ids)``)
    selectors: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        issues: list[str] | None = None,
        thresholds: dict[str, float] | None = None,
        column: str | None = None,
    ) -> None:
        self.issues = issues
        self.thresholds = thresholds
        self.column = column

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the operations conformance test (tests/test_operations.py)."""
        rng = np.random.default_rng(0)
        imgs = [rng.integers(0, 256, size=(12, 12), dtype=np.uint8) for _ in range(20)]
        imgs[3] = (imgs[3] // 12).astype(np.uint8)  # dark
        imgs[7] = np.full((12, 12), 128, dtype=np.uint8)  # no information
        df = pd.DataFrame({"image": imgs, "label": ["a", "b"] * 10})
        return [
            {"frame": df, "dataset": {"label": "label"}, "operation": cls(), "name": "default"},
            {
                "frame": df,
                "dataset": {"label": "label"},
                "operation": cls(issues=["dark"], thresholds={"dark": 0.3}),
                "name": "dark only",
            },
        ]

    def _check(self) -> tuple[list[str], dict[str, float]]:
        issues = list(IMAGE_ISSUES) if self.issues is None else list(self.issues)
        unknown = [i for i in issues if i not in IMAGE_ISSUES]
        if unknown:
            raise ValueError(f"unknown image issues {unknown}; known: {list(IMAGE_ISSUES)}")
        given = dict(self.thresholds or {})
        bad = [i for i in given if i not in IMAGE_ISSUES]
        if bad:
            raise ValueError(
                f"thresholds for unknown image issues {bad}; known: {list(IMAGE_ISSUES)}"
            )
        return issues, {**IMAGE_ISSUES, **{k: float(v) for k, v in given.items()}}

    def _find(self, ds: Dataset) -> Findings:
        """Score every image on cleanvision's properties; flag those below a threshold.

        Returns
        -------
        Findings
            By sample id: ``score`` (how far the worst property is below its threshold,
            relative to it; 0 = none is), ``has_issue``, ``issues`` (the names, as text),
            one column per issue with the property (low = the issue), ``reason``.
        """
        issues, thresholds = self._check()
        col = self.column or getattr(ds, "image_column", None)
        if not col or col not in ds.columns:
            raise ValueError("the dataset has no image column: image issues need one")
        cells = list(ds.column(col))
        n = len(cells)
        # decoding and measuring each image: seconds per thousand, a line from STAGE_BAR_ROWS
        show = n >= STAGE_BAR_ROWS and not in_audit()
        props: list[dict[str, Any] | None] = []
        with progress_bar(total=n, desc="image issues", disable=not show) as bar:
            for c in cells:
                props.append(image_properties(c) if c is not None else None)
                bar.update(1)
        area = np.array([np.sqrt(p["width"] * p["height"]) if p else np.nan for p in props])
        med = float(np.nanmedian(area)) if np.isfinite(area).any() else 1.0
        values: dict[str, np.ndarray] = {k: np.full(n, np.nan) for k in IMAGE_ISSUES}
        for i, p in enumerate(props):
            if p is None:
                continue
            values["dark"][i] = min(p["brightness"], 1.0)
            values["light"][i] = 1.0 - min(p["brightness"], 1.0)
            values["blurry"][i] = 1.0 - np.exp(-0.001 * p["edge_var"])
            values["low_information"][i] = min(0.1 * p["entropy"], 1.0)
            w, h = p["width"], p["height"]
            values["odd_aspect_ratio"][i] = min(w / h, h / w) if w and h else 0.0
            values["odd_size"][i] = min(area[i] / med, med / area[i]) if area[i] > 0 else 0.0
        has = np.zeros(n, dtype=bool)
        score = np.zeros(n)
        names: list[list[str]] = [[] for _ in range(n)]
        for issue in issues:
            v, t = values[issue], thresholds[issue]
            below = np.nan_to_num(v, nan=np.inf) < t
            has |= below
            score = np.maximum(score, np.where(below, (t - v) / t, 0.0))
            for i in np.flatnonzero(below).tolist():
                names[i].append(issue)
        text = np.array([", ".join(x) if x else None for x in names], dtype=object)
        reason = np.array(
            [
                "; ".join(f"{k} ({values[k][i]:.2f} < {thresholds[k]:.2f})" for k in names[i])
                if names[i]
                else None
                for i in range(n)
            ],
            dtype=object,
        )
        cols: dict[str, Any] = {"score": score, "has_issue": has, "issues": text}
        cols.update({k: values[k] for k in issues})
        cols["reason"] = reason
        frame = finding_frame(ds, cols)
        frame.attrs["counts"] = {k: int(sum(k in x for x in names)) for k in issues}
        return make_findings(
            self, ds, frame, {"score": "score", "flag": "has_issue", "reason": "reason"}
        )

    def _summary(self, ds: Dataset, findings: Findings) -> dict[str, Any]:
        return {**findings.summary(), "counts": dict(findings.frame.attrs.get("counts", {}))}
