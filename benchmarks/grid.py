"""SampleGrid vs ipydatagrid on frames of 10k .. 10M rows x 10 columns (kernel side).

For each size: time to construct and display the widget, bytes sent on first display (widget
state + first page, not the JS bundle), and the time to answer a page request (unsorted;
sorted by a float column: first, repeated, a deep page, the other direction, after a
relabel). ipydatagrid is measured on the same frames in the same run: it has no page
requests (it ships the whole frame on display, as binary column buffers, and sorts in the
browser), so only its construction time and first-display bytes exist; ``--ipydatagrid-max``
skips it above a size (its 10M-row state is ~0.7 GB).

Numbers are printed (and written to benchmarks/_out/grid.json), never asserted.

Usage::

    python benchmarks/grid.py                       # 10k, 100k, 1M, 10M
    python benchmarks/grid.py --sizes 10000 100000  # quicker
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import dcai_jupyter as dj
from dcai_jupyter.widgets import SampleGrid
from dcai_jupyter.widgets._base import STATIC

OUT = Path(__file__).resolve().parent / "_out"
CLASSES = list(range(10))


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows x 10 columns: label (int, 10 classes), 6 float64, 3 int64."""
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {"label": rng.integers(0, 10, n)}
    for i in range(6):
        cols[f"f{i}"] = rng.normal(size=n)
    for i in range(3):
        cols[f"i{i}"] = rng.integers(0, 1_000_000, n)
    return pd.DataFrame(cols)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def ask(grid: SampleGrid, **msg: Any) -> tuple[float, dict[str, Any], int]:
    """One page request through the widget's handler, JSON-encoded as on the wire."""
    t0 = time.perf_counter()
    answer = grid.handle_message({"type": "page", "request_id": "bench", **msg})
    wire = json.dumps(answer, allow_nan=False)
    dt = time.perf_counter() - t0
    if answer["type"] != "page":
        raise RuntimeError(answer)
    return dt, answer, len(wire)


def median_time(fn: Callable[[], Any], repeat: int = 15) -> float:
    times = []
    for _ in range(repeat):
        t, _ = timed(fn)
        times.append(t)
    return statistics.median(times)


def state_bytes(widget: Any, skip: tuple[str, ...] = ("_esm", "_css")) -> int:
    """Bytes of the comm-open state: its JSON plus its binary buffers (ipydatagrid's columns)."""
    from ipywidgets.widgets.widget import _remove_buffers

    state = {k: v for k, v in widget.get_state().items() if k not in skip}
    state, _, buffers = _remove_buffers(state)
    return len(json.dumps(state)) + sum(memoryview(b).nbytes for b in buffers)


def bench_samplegrid(ds: Any) -> dict[str, Any]:
    n = len(ds)
    r: dict[str, Any] = {}

    def construct() -> SampleGrid:
        grid = SampleGrid(ds)
        grid._repr_mimebundle_()
        json.dumps(grid.get_state(), default=str)  # what the comm-open message serializes
        return grid

    r["construct_display_s"], grid = timed(construct)
    size = grid.page_size
    t_first, first, first_bytes = ask(grid, offset=0, limit=size)
    r["first_display_bytes"] = state_bytes(grid) + first_bytes
    r["state_bytes"] = state_bytes(grid)
    r["first_page_bytes"] = first_bytes
    r["unsorted_first_request_s"] = t_first
    mid = max(0, n // 2)
    r["unsorted_page_s"] = median_time(lambda: ask(grid, offset=mid, limit=size))
    sort = {"column": "f0", "ascending": True}
    r["sorted_first_s"], _ = timed(lambda: ask(grid, offset=0, limit=size, sort=sort))
    r["sorted_repeat_s"] = median_time(lambda: ask(grid, offset=0, limit=size, sort=sort))
    r["sorted_deep_first_s"], _ = timed(lambda: ask(grid, offset=mid, limit=size, sort=sort))
    r["sorted_deep_repeat_s"] = median_time(lambda: ask(grid, offset=mid, limit=size, sort=sort))
    desc = {"column": "f0", "ascending": False}
    r["sorted_other_direction_s"], _ = timed(lambda: ask(grid, offset=0, limit=size, sort=desc))
    # a relabel from a cell: the sorted view stays fast (the order of f0 is carried over)
    sid = int(first["ids"][0])
    label = first["columns"]["label"][0]
    ds.relabel([sid], [(label + 1) % 10])
    r["sorted_after_relabel_s"], _ = timed(lambda: ask(grid, offset=mid, limit=size, sort=sort))
    flt = {"label": 3}
    r["filtered_first_s"], _ = timed(lambda: ask(grid, offset=0, limit=size, filter=flt))
    r["filtered_repeat_s"] = median_time(lambda: ask(grid, offset=0, limit=size, filter=flt))
    grid.close()
    return r


def bench_ipydatagrid(df: pd.DataFrame) -> dict[str, Any]:
    from ipydatagrid import DataGrid

    def construct() -> Any:
        grid = DataGrid(df)
        grid._repr_mimebundle_()
        return grid

    t, grid = timed(construct)
    t_state, nbytes = timed(lambda: state_bytes(grid, skip=()))
    grid.close()
    return {"construct_display_s": t, "first_display_bytes": nbytes, "state_json_s": t_state}


def fmt_s(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"


def fmt_b(v: int | None) -> str:
    if v is None:
        return "-"
    return f"{v / 1024:.1f} KB" if v < 1024**2 else f"{v / 1024**2:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000, 10_000_000]
    )
    ap.add_argument("--ipydatagrid-max", type=int, default=10_000_000)
    ap.add_argument("--out", type=Path, default=OUT / "grid.json")
    args = ap.parse_args(argv)

    bundle = {p.name: p.stat().st_size for p in STATIC.glob("*") if p.is_file()}
    print(f"front-end bundle (sent once, not counted below): {bundle}")
    results = []
    with threadpool_limits(1):
        for n in args.sizes:
            df = make_frame(n)
            t_ds, ds = timed(
                lambda df=df: dj.Dataset(df, label="label", classes=CLASSES, history=":memory:")
            )
            row: dict[str, Any] = {"rows": n, "dataset_construct_s": t_ds}
            row["samplegrid"] = bench_samplegrid(ds)
            del ds
            gc.collect()
            # without declared classes the Dataset derives them from the labels (O(rows))
            loose = dj.Dataset(df, label="label", history=":memory:")
            t_loose, grid = timed(lambda loose=loose: SampleGrid(loose))
            row["samplegrid"]["construct_undeclared_classes_s"] = t_loose
            grid.close()
            del loose, grid
            gc.collect()
            if n <= args.ipydatagrid_max:
                row["ipydatagrid"] = bench_ipydatagrid(df)
            else:
                row["ipydatagrid"] = None
            del df
            gc.collect()
            results.append(row)
            sg, ig = row["samplegrid"], row["ipydatagrid"]
            print(f"\n== {n} rows x 10 columns (dj.Dataset built in {fmt_s(t_ds)})")
            print(
                f"  SampleGrid  construct+display {fmt_s(sg['construct_display_s'])}, "
                f"first display {fmt_b(sg['first_display_bytes'])} "
                f"(state {fmt_b(sg['state_bytes'])} + first page {fmt_b(sg['first_page_bytes'])})"
            )
            print(
                "    construct without declared classes (derived from the labels): "
                f"{fmt_s(sg['construct_undeclared_classes_s'])}"
            )
            print(
                f"    page unsorted: first {fmt_s(sg['unsorted_first_request_s'])}, "
                f"then {fmt_s(sg['unsorted_page_s'])}"
            )
            print(
                f"    page sorted by f0: first {fmt_s(sg['sorted_first_s'])}, "
                f"repeated {fmt_s(sg['sorted_repeat_s'])}; deep page first "
                f"{fmt_s(sg['sorted_deep_first_s'])}, repeated {fmt_s(sg['sorted_deep_repeat_s'])}; "
                f"other direction {fmt_s(sg['sorted_other_direction_s'])}; after a relabel "
                f"{fmt_s(sg['sorted_after_relabel_s'])}"
            )
            print(
                f"    page filtered by label: first {fmt_s(sg['filtered_first_s'])}, "
                f"repeated {fmt_s(sg['filtered_repeat_s'])}"
            )
            if ig is None:
                print(
                    f"  ipydatagrid skipped above {args.ipydatagrid_max} rows "
                    "(--ipydatagrid-max): whole frame serialized on display"
                )
            else:
                print(
                    f"  ipydatagrid construct+display {fmt_s(ig['construct_display_s'])}, "
                    f"first display {fmt_b(ig['first_display_bytes'])} "
                    f"(+{fmt_s(ig['state_json_s'])} to encode it); "
                    "no page requests (all rows on the client, sorted there)"
                )
            sys.stdout.flush()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"bundle_bytes": bundle, "results": results}, indent=1))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
