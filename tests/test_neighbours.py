"""The neighbour service: exact below the threshold, approximate above, distances exact.

The approximate path is forced on a few thousand rows (``exact=False`` or a lowered
``EXACT_MAX``); it must find what the exact path finds (injected near copies, outliers).
pynndescent compiles its kernels once per process (~20 s), so these tests share one file.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from dcai_jupyter.ops import _near_copies, _neighbours, _outliers, find_duplicates
from dcai_jupyter.ops._neighbours import neighbour_graph, query
from dcai_jupyter.ops._outliers import find_outliers


def _brute(Z: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    D = np.linalg.norm(Z[:, None, :] - Z[None, :, :], axis=2)
    np.fill_diagonal(D, np.inf)
    idx = np.argsort(D, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(D, idx, axis=1), idx


def _pairs(n: int, d: int, copies: int, seed: int = 0) -> tuple[np.ndarray, set[tuple[int, int]]]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    src = rng.choice(n, copies, replace=False)
    C = X[src] + rng.normal(size=(copies, d)) * 0.01
    pairs = {(int(s), n + j) for j, s in enumerate(src)}
    return np.vstack([X, C]), pairs


def _found_pairs(res) -> set[tuple[int, int]]:
    g = res["group"]
    out = set()
    for _, members in g.dropna().groupby(g.dropna()).groups.items():
        m = sorted(int(x) for x in members)
        out |= {(a, b) for i, a in enumerate(m) for b in m[i + 1 :]}
    return out


@pytest.mark.parametrize("exact", [True, False])
def test_distances_are_exact_sorted_and_never_the_row_itself(exact: bool) -> None:
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(1500, 8))
    Z[10] = Z[11]  # an exact copy: the other copy may come first
    dist, idx = neighbour_graph(Z, 7, exact=exact)
    assert dist.shape == idx.shape == (1500, 7)
    assert not (idx == np.arange(1500)[:, None]).any()
    assert (np.diff(dist, axis=1) >= 0).all()
    want = np.linalg.norm(Z[idx] - Z[:, None, :], axis=2)
    assert np.array_equal(dist, want)  # float64, recomputed from the rows
    assert idx[10, 0] == 11 and idx[11, 0] == 10 and dist[10, 0] == 0.0
    bd, bi = _brute(Z, 7)
    recall = np.mean([len(set(a) & set(b)) / 7 for a, b in zip(idx, bi, strict=True)])
    if exact:
        assert np.allclose(dist, bd) and recall > 0.999
    else:
        assert recall > 0.9, recall


def test_cosine_and_small_inputs() -> None:
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(300, 5))
    dist, idx = neighbour_graph(Z, 3, metric="cosine")
    U = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    assert np.allclose(dist, 1 - np.einsum("nkd,nd->nk", U[idx], U))
    assert neighbour_graph(Z[:1], 3)[1].shape == (1, 0)
    assert neighbour_graph(Z[:3], 5)[1].shape == (3, 2)
    with pytest.raises(ValueError, match="metric"):
        neighbour_graph(Z, 3, metric="manhattan")
    with pytest.raises(ValueError, match="NaN"):
        neighbour_graph(np.array([[0.0, np.nan], [1.0, 1.0]]), 1)


def test_query_among_reference_rows() -> None:
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(400, 4))
    ref = np.arange(100, 400)
    dist, idx = query(Z, [0, 150], 5, reference=ref)
    assert np.isin(idx, ref).all() and 150 not in idx[1]
    D = np.linalg.norm(Z[ref] - Z[0], axis=1)
    assert np.allclose(dist[0], np.sort(D)[:5])


def test_query_on_two_threads_finds_what_one_finds() -> None:
    # the outliers' suspects are searched on every core: neither the neighbours nor their
    # distances may depend on the thread count (enough rows for scikit-learn to split them)
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(60_000, 8)).round(1)  # rounded: ties among the distances
    rows = rng.choice(len(Z), 300, replace=False)
    one, every = query(Z, rows, 10, n_jobs=1), query(Z, rows, 10, n_jobs=2)
    np.testing.assert_array_equal(one[0], every[0])
    np.testing.assert_array_equal(one[1], every[1])
    assert (np.diff(one[0], axis=1) >= 0).all() and (one[1] != rows[:, None]).all()


def test_approximate_near_duplicates_find_the_exact_pairs(monkeypatch) -> None:
    X, injected = _pairs(4000, 12, 40)
    exact = find_duplicates(X)
    monkeypatch.setattr(_near_copies, "EXACT_MAX", 100)
    approx = find_duplicates(X)
    assert _found_pairs(exact) == injected
    assert _found_pairs(approx) == _found_pairs(exact)
    # the reported distances are exact: the same numbers whichever search found the pair
    rows = sorted(b for _, b in injected)
    assert np.allclose(approx.loc[rows, "distance"], exact.loc[rows, "distance"])


def test_approximate_outliers_flag_the_exact_ones(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(4000, 10))
    far = rng.normal(size=(25, 10))
    X[:25] = 12.0 * far / np.linalg.norm(far, axis=1, keepdims=True)  # far out
    exact = find_outliers(X)
    monkeypatch.setattr(_outliers, "EXACT_ROWS", 100)
    approx = find_outliers(X)
    assert set(np.flatnonzero(exact["is_outlier"])) >= set(range(25))
    assert set(np.flatnonzero(approx["is_outlier"])) == set(np.flatnonzero(exact["is_outlier"]))
    assert np.corrcoef(approx["score"], exact["score"])[0, 1] > 0.99


def test_exact_duplicates_never_search_neighbours(monkeypatch) -> None:
    def refuse(*a, **k):
        raise AssertionError("the exact-duplicate path searched neighbours")

    for name, module in list(sys.modules.items()):
        if name.startswith("dcai_jupyter.ops"):
            for attr in ("neighbour_graph", "query", "nearest_two"):
                if getattr(module, attr, None) is getattr(_neighbours, attr):
                    monkeypatch.setattr(module, attr, refuse)
    X, _ = _pairs(3000, 6, 0)
    X = np.vstack([X, X[:50]])
    res = find_duplicates(X, near=False)
    assert int(res["is_duplicate"].sum()) == 50
    with pytest.raises(AssertionError, match="searched"):
        find_duplicates(X, near=True)


_COMPILES = """
import json, sys
import numpy as np
from numba.core import event
from dcai_jupyter.ops._neighbours import neighbour_graph

names = []
class Seen(event.Listener):
    def on_start(self, ev): pass
    def on_end(self, ev): names.append(ev.data["dispatcher"].py_func.__qualname__)
event.register("numba:compile", Seen())
Z = np.random.default_rng(0).normal(size=(600, 8))
dist, idx = neighbour_graph(Z, 5, exact=False, n_jobs=1)
print(json.dumps({"compiled": sorted(set(names)), "idx": idx.tolist()}))
"""


@pytest.mark.slow
def test_a_second_process_loads_the_graph_kernels_from_numbas_disk_cache(tmp_path) -> None:
    # pynndescent compiles its kernels in every process; _nnd_cache keeps them on disk
    # (those taking the distance too, its identity fixed), so a second process compiles
    # only the two that read numba's thread count
    import json
    import os
    import subprocess

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    runs = []
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", _COMPILES], env=env, capture_output=True, text=True, check=True
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    first, second = (set(r["compiled"]) for r in runs)
    cached = {"deheap_sort", "build_candidates_owner", "sort_updates_by_block"}
    # ... and the kernels that take the distance function, with the distance itself
    cached |= {"process_candidates", "init_rp_tree", "init_random", "squared_euclidean"}
    assert cached <= first  # compiled the first time ...
    assert not cached & second  # ... loaded the second
    assert len(second) < len(first)
    assert {"nn_descent", "nn_descent_internal"} <= second  # read a pointer: compiled each time
    assert runs[0]["idx"] == runs[1]["idx"]  # the same graph

    # nothing in the cache was keyed on a per-process object: a third run adds no file
    def files() -> list[tuple[str, int]]:
        found = (tmp_path / "numba").rglob("*")
        return sorted((p.name, p.stat().st_size) for p in found if p.is_file())

    before = files()
    subprocess.run([sys.executable, "-c", _COMPILES], env=env, capture_output=True, check=True)
    assert files() == before


_USER_METRIC = """
import numba, numpy as np
from pynndescent import NNDescent
from pynndescent.pynndescent_ import process_candidates
from dcai_jupyter.ops._neighbours import neighbour_graph

neighbour_graph(np.random.default_rng(0).normal(size=(600, 8)), 5, exact=False, n_jobs=1)

@numba.njit(fastmath=True)
def mine(x, y):  # a user's own metric: a new identity in every process
    return np.abs(x - y).sum()

Z = np.random.default_rng(1).normal(size=(600, 8)).astype(np.float32)
NNDescent(Z, n_neighbors=6, metric=mine, random_state=0, n_jobs=1)
print(type(process_candidates._cache).__name__)
"""


@pytest.mark.slow
def test_the_disk_cache_is_only_on_for_the_services_own_graphs(tmp_path) -> None:
    # a user's own metric given to pynndescent in the same process compiles in memory, as
    # pynndescent made it: nothing keyed on a per-process identity is written, run after run
    import os
    import subprocess

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}

    def run() -> list[tuple[str, int]]:
        out = subprocess.run(
            [sys.executable, "-c", _USER_METRIC], env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.strip().splitlines()[-1] == "NullCache"
        found = (tmp_path / "numba").rglob("*")
        return sorted((p.name, p.stat().st_size) for p in found if p.is_file())

    first = run()
    assert any("process_candidates" in name for name, _ in first)  # the service's own
    assert run() == first


@pytest.mark.parametrize("d", [1, 7, 8, 9, 20, 23, 128, 129])
def test_the_compiled_re_measure_is_bit_equal_to_numpys(monkeypatch, d: int) -> None:
    # large inputs re-measure their pairs in a numba kernel that sums in numpy's order
    rng = np.random.default_rng(d)
    Z = rng.normal(size=(3000, d)) * rng.lognormal(size=d)
    idx = rng.integers(0, 3000, size=(3000, 11))
    rows = rng.permutation(3000)
    monkeypatch.setattr(_neighbours, "KERNEL_PAIRS", 10**12)
    plain = _neighbours.pair_distances(Z, rows, idx)
    monkeypatch.setattr(_neighbours, "KERNEL_PAIRS", 1)
    compiled = _neighbours.pair_distances(Z, rows, idx)
    assert np.array_equal(plain, compiled)
    assert np.array_equal(plain[:, 0], np.linalg.norm(Z[idx[:, 0]] - Z[rows], axis=1))


def test_the_approximate_graphs_line_says_how_long_it_should_take(monkeypatch, capsys) -> None:
    # pynndescent reports nothing while it runs; a timed 1 % sample gives the estimate
    import re

    monkeypatch.setattr(_neighbours, "ESTIMATE_ROWS", 4000)
    monkeypatch.setattr(_neighbours, "ESTIMATE_MIN_ROWS", 400)
    Z = np.random.default_rng(0).normal(size=(6000, 8))
    capsys.readouterr()
    neighbour_graph(Z, 5, exact=False, progress=True, desc="graph")
    err = capsys.readouterr().err
    assert "graph (approximate)" in err
    assert re.search(r"about \d+ s", err)
    neighbour_graph(Z[:3000], 5, exact=False, progress=True, desc="small")
    assert "about" not in capsys.readouterr().err  # below ESTIMATE_ROWS: no sample graph


@pytest.mark.parametrize("verified", [True, False])
def test_approximate_outliers_verify_their_suspects_in_the_whitened_view(
    monkeypatch, verified: bool
) -> None:
    # candidates come from the scaled space; whitening stretches the mixed table's
    # low-variance rare-category columns, so the whitened view's true neighbours can lie
    # outside them (benchmarks/scale.py's mixed table: 37 flags where exact gives 7)
    from pathlib import Path

    from dcai_jupyter.ops._mixed_rows import robust_columns

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from scale import _dataset, mixed_table

    df, _, _ = mixed_table(8000, seed=1)
    ds = _dataset(df, "mixed")
    M, _, _ = robust_columns(_outliers.Outliers()._mixed_columns(ds), dict(ds.roles))
    if not verified:
        monkeypatch.setattr(_outliers, "_exactly", lambda V, v, rows, k: v)
    exact = find_outliers(M, exact=True)["is_outlier"].to_numpy()
    approx = find_outliers(M, exact=False)["is_outlier"].to_numpy()
    if verified:
        assert abs(int(approx.sum()) - int(exact.sum())) <= max(3, int(exact.sum()) // 2)
        assert (approx & exact).sum() >= exact.sum() // 2
    else:
        assert approx.sum() > 2 * max(1, exact.sum())  # flags resting on missing neighbours


@pytest.mark.slow
def test_approximate_outliers_measure_the_whitened_views_typical_distance(monkeypatch) -> None:
    # the whitened view's candidate distances run large for typical rows too, so the rows
    # searched again exactly looked less unusual than they are: the approximate path
    # flagged 16 rows of a 20k mixed table where the exact path flags 22
    from pathlib import Path

    from dcai_jupyter.ops._mixed_rows import robust_columns

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from scale import _dataset, mixed_table

    df, _, _ = mixed_table(20_000, seed=1)
    ds = _dataset(df, "mixed")
    M, _, _ = robust_columns(_outliers.Outliers()._mixed_columns(ds), dict(ds.roles))
    exact = find_outliers(M, exact=True)["is_outlier"].to_numpy()
    approx = find_outliers(M, exact=False)["is_outlier"].to_numpy()
    assert exact.sum() >= 10
    assert abs(int(approx.sum()) - int(exact.sum())) <= 2
    assert (approx & exact).sum() >= exact.sum() - 2
    monkeypatch.setattr(_outliers, "_typical_excess", lambda *a: 0.0)
    unshifted = find_outliers(M, exact=False)["is_outlier"].to_numpy()
    assert unshifted.sum() < approx.sum()  # the excess measured is what closes the gap
