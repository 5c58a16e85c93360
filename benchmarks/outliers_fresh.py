"""Outliers at 1M rows in a new process (issue 21: <= 60 s): the first call pays numba's
compile of pynndescent's NN-descent kernels, the second shows the warm cost.

Run ``python benchmarks/outliers_fresh.py [--rows N] [--calls C]`` in a new shell: it prints
wall and CPU seconds, F1 on the injected outliers and the number flagged for each call of
``find_outliers(X)`` on ``scale_neighbours.inject(N)`` (20 numeric columns, 0.05 % of the
rows pushed far out), with the machine's load beside each line (wall time follows it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_neighbours import _f1, inject


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--calls", type=int, default=2)
    a = ap.parse_args()
    from dcai_jupyter.ops import find_outliers

    X, _, _, far = inject(a.rows)
    truth = np.zeros(len(X), dtype=bool)
    truth[far] = True
    for i in range(a.calls):
        t, c = time.perf_counter(), time.process_time()
        res = find_outliers(X)
        flags = res["is_outlier"].to_numpy()
        print(
            f"call {i + 1}: wall {time.perf_counter() - t:.1f} s, "
            f"cpu {time.process_time() - c:.1f} s, F1 {_f1(flags, truth):.3f}, "
            f"flagged {int(flags.sum())}, load {os.getloadavg()[0]:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
