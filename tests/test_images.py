"""Image columns: arrays, PNG bytes, PIL images and file paths are fingerprinted by content.

For each kind: remove and undo restore the exact fingerprint, a new Dataset on the same
history and base (a kernel restart; also in a fresh process) resumes, and replaying the
history file equals the live state. Pillow is needed only where a PIL image is used.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj

N = 8
KINDS = ["array2d", "array3d", "png_bytes", "pil", "path", "mixed"]
NEEDS_PIL = {"pil", "mixed"}


def _png(arr: np.ndarray) -> bytes:
    """A PNG file's bytes for a uint8 gray (h, w) or RGB (h, w, 3) array, without Pillow."""
    h, w = arr.shape[:2]
    colour = 0 if arr.ndim == 2 else 2
    raw = b"".join(b"\x00" + arr[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _pixels(i: int) -> np.ndarray:
    return np.random.default_rng(i).integers(0, 256, size=(6, 5, 3), dtype=np.uint8)


def _pil(i: int, folder: Path) -> Any:
    """PIL images of several modes, some opened from files (as users load them)."""
    from PIL import Image

    px = _pixels(i)
    kind = i % 6
    if kind == 0:
        return Image.fromarray(px[..., 0])  # L
    if kind == 1:
        return Image.fromarray(px)  # RGB
    if kind == 2:
        return Image.fromarray(np.dstack([px, px[..., :1]]))  # RGBA
    if kind == 3:
        return Image.fromarray(px).quantize(7)  # P with a palette
    if kind == 4:
        return Image.fromarray(px[..., 0].astype(np.float32) / 7)  # F: not PNG-exact
    path = folder / f"pil{i}.png"
    path.write_bytes(_png(px))
    return Image.open(path)  # lazily loaded PngImageFile


def _value(kind: str, i: int, folder: Path) -> Any:
    px = _pixels(i)
    if kind == "array2d":
        return px[..., 0]
    if kind == "array3d":
        return px
    if kind == "png_bytes":
        return _png(px)
    if kind == "path":
        path = folder / f"img{i}.png"
        path.write_bytes(_png(px))
        return str(path)
    if kind == "pil":
        return _pil(i, folder)
    if kind == "mixed":
        return _value(["array2d", "array3d", "png_bytes", "pil", "path"][i % 5], i, folder)
    raise ValueError(kind)


def base_frame(kind: str, folder: Path) -> pd.DataFrame:
    """The same base data, built from scratch: new objects each call, as after a restart."""
    folder.mkdir(parents=True, exist_ok=True)
    img = np.empty(N, dtype=object)
    img[:] = [_value(kind, i, folder) for i in range(N)]
    return pd.DataFrame({"image": img, "label": pd.array(list("abcdabcd"), dtype="str")})


def _with_image(df: pd.DataFrame, i: int, value: Any) -> pd.DataFrame:
    """``df`` with row ``i``'s image replaced (``.loc`` would unpack an array-like value)."""
    img = df["image"].to_numpy(dtype=object, copy=True)
    img[df.index.get_loc(i)] = value
    return df.assign(image=img)


def _content(v: Any) -> Any:
    """A comparable form of one image cell."""
    if isinstance(v, np.ndarray):
        return ("array", v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, (bytes, str)):
        return v
    return ("pil", v.mode, v.size, v.getpalette(), v.tobytes())


def _contents(df: pd.DataFrame) -> dict[int, Any]:
    rows = zip(df.index, df["image"], df["label"], strict=True)
    return {int(i): (_content(v), lab) for i, v, lab in rows}


@pytest.fixture(params=KINDS)
def kind(request):
    if request.param in NEEDS_PIL:
        pytest.importorskip("PIL.Image")
    return request.param


def test_remove_undo_resume_and_replay(kind, tmp_path):
    folder, hist = tmp_path / "data", tmp_path / "h.sqlite"
    ds = dj.Dataset(base_frame(kind, folder), label="label", name="imgs", history=hist)
    fp0, state0 = ds.fingerprint, _contents(ds.df)
    ds.remove([1, 3])
    assert ds.fingerprint != fp0 and len(ds) == N - 2
    ds.undo()
    assert ds.fingerprint == fp0
    assert _contents(ds.df) == state0
    ds.verify()  # the incremental fingerprint equals one computed from every cell
    ds.remove([2, 5])
    ds.relabel([0], ["z"])
    fp_before_undo = ds.fingerprint
    ds.undo()
    ds.redo()
    assert ds.fingerprint == fp_before_undo
    live_fp, live = ds.fingerprint, _contents(ds.df)
    ds.history.close()

    # a restart: the same base built anew (new objects) resumes the history
    again = dj.Dataset(base_frame(kind, folder), label="label", name="imgs", history=hist)
    assert again.version == ds.version and again.fingerprint == live_fp
    assert _contents(again.df) == live
    again.verify()
    again.undo()  # the removed images come back from the history file
    again.undo()
    assert 2 in again.df.index and 5 in again.df.index
    assert _contents(again.df) == state0 and again.fingerprint == fp0
    again.history.close()

    h = dj.open_history(hist)
    replayed = h.replay(base_frame(kind, folder), to=ds.version)
    assert _contents(replayed) == live
    assert dj.Dataset(replayed, label="label").fingerprint == live_fp
    assert dj.Dataset(h.replay(base_frame(kind, folder)), label="label").fingerprint == fp0


def test_fingerprint_is_content_not_identity(kind, tmp_path):
    a = dj.Dataset(base_frame(kind, tmp_path / "a"), label="label")
    b = dj.Dataset(base_frame(kind, tmp_path / "a"), label="label")
    assert a.fingerprint == b.fingerprint
    # the same data with one image replaced (same folder, so paths differ only there)
    other = _with_image(base_frame(kind, tmp_path / "a"), 4, _value(kind, 99, tmp_path / "a"))
    assert dj.Dataset(other, label="label").fingerprint != a.fingerprint


def test_pil_pixel_change_changes_the_fingerprint(tmp_path):
    pytest.importorskip("PIL.Image")
    df = base_frame("pil", tmp_path)
    fp = dj.Dataset(df, label="label").fingerprint
    img = df.loc[1, "image"].copy()
    img.putpixel((0, 0), (0, 0, 0) if img.getpixel((0, 0)) != (0, 0, 0) else (1, 1, 1))
    assert dj.Dataset(_with_image(df, 1, img), label="label").fingerprint != fp


RESTART = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    import dcai_jupyter as dj
    from test_images import base_frame
    kind, folder, hist = sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    ds = dj.Dataset(base_frame(kind, folder), label="label", name="imgs", history=hist)
    start = ds.version
    if start == 0:
        ds.remove([1, 6])
        ds.relabel([0], ["z"])
    print(start, ds.version, ds.fingerprint)
    """
)


@pytest.mark.parametrize("kinds", [("array2d", "array3d", "png_bytes", "path"), ("pil", "mixed")])
def test_resume_in_a_new_process(kinds, tmp_path):
    if "pil" in kinds:
        pytest.importorskip("PIL.Image")

    def run(*args: Any) -> list[str]:
        tests = str(Path(__file__).parent)
        r = subprocess.run(
            [sys.executable, "-c", RESTART, tests, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        return r.stdout.splitlines()[-1].split()  # the last line: version and fingerprint

    for kind in kinds:
        args = (kind, tmp_path / kind, tmp_path / f"{kind}.sqlite")
        first, second = run(*args), run(*args)  # records, then resumes in a new process
        assert first[:2] == ["0", "2"], (kind, first)
        assert second == ["2", *first[1:]], (kind, first, second)  # same version and fingerprint


BLOCK_PIL = textwrap.dedent(
    """
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == "PIL" or name.startswith("PIL."):
                raise ImportError("Pillow is not installed (blocked by the test)")

    sys.meta_path.insert(0, Block())
    sys.path.insert(0, sys.argv[1])
    import dcai_jupyter as dj
    from test_images import base_frame, _contents
    from pathlib import Path
    folder = Path(sys.argv[2])
    for kind in ("array2d", "array3d", "png_bytes", "path"):
        hist = folder / (kind + ".sqlite")
        ds = dj.Dataset(base_frame(kind, folder), label="label", name="np", history=hist)
        fp = ds.fingerprint
        ds.remove([0, 7])
        ds.undo()
        assert ds.fingerprint == fp
        ds.remove([4])
        out = dj.open_history(hist).replay(base_frame(kind, folder))
        assert _contents(out) == _contents(ds.df)
    try:
        dj.open_history(sys.argv[3]).replay(base_frame("array2d", folder), strict=False)
    except ImportError as e:
        print("needs:", e)
    assert not [m for m in sys.modules if m.split(".")[0] == "PIL"], "PIL was imported"
    """
)


def test_without_pillow(tmp_path):
    """No PIL import for arrays, bytes and paths; a history holding PIL images says what to install."""
    pytest.importorskip("PIL.Image")  # to write the PIL history the child then cannot read
    pil_hist = tmp_path / "pil.sqlite"
    ds = dj.Dataset(base_frame("pil", tmp_path / "p"), label="label", name="p", history=pil_hist)
    ds.remove([1])
    ds.undo()  # the file now holds the removed PIL image (as PNG) to restore
    ds.history.close()
    r = subprocess.run(
        [sys.executable, "-c", BLOCK_PIL, str(Path(__file__).parent), tmp_path, pil_hist],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "needs: this history records PIL images; install Pillow" in r.stdout


def test_label_issues_on_fewer_images_than_the_knn_member_keeps_dimensions():
    # 60 images of 144 pixels: the kNN member's PCA (64 components) cannot fit on 40
    # training rows per fold; it keeps the scaled pixels instead of failing
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 255, size=(12, 12), dtype=np.uint8) for _ in range(60)]
    df = pd.DataFrame({"img": imgs, "label": ["a", "b", "c"] * 20})
    ds = dj.Dataset(df, label="label", image="img")
    issues = ds.find_label_issues(cv=3, progress=False)
    assert len(issues) == 60 and issues.scores.between(0, 1).all()
