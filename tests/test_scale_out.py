"""Scale-out (issue 12): the one cross-validation runner spreads its folds and fits over a
dask.distributed cluster through ``joblib.parallel_backend("dask")``, with no other change,
and gives the same probabilities and label issues as a local run."""

from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from dcai_jupyter.ops import default_label_issues, out_of_sample_pred_probs, run_tasks

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

pytestmark = pytest.mark.slow


@contextmanager
def _connected(cluster):
    """A client of ``cluster``; both closed on leaving."""
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with _connected(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=600, n_features=8, n_informative=4, n_classes=3, random_state=0
    )
    noisy = y.copy()
    noisy[::10] = (noisy[::10] + 1) % 3
    return X, noisy


def test_tasks_run_on_the_cluster_workers(client):
    workers = set(client.run(os.getpid).values())
    assert len(workers) == 2 and os.getpid() not in workers
    with joblib.parallel_backend("dask"):
        pids = run_tasks([(i, os.getpid, ()) for i in range(8)], progress=False)
    assert sorted(pids) == list(range(8))
    assert set(pids.values()) <= workers  # every task ran on a cluster worker


def test_default_pipeline_on_the_cluster_equals_local(client, data):
    X, y = data
    local = out_of_sample_pred_probs(X, y, progress=False)
    issues = default_label_issues(X, y, progress=False)
    with joblib.parallel_backend("dask"):
        remote = out_of_sample_pred_probs(X, y, progress=False)
        remote_issues = default_label_issues(X, y, progress=False)
    np.testing.assert_array_equal(remote, local)
    assert remote_issues.equals(issues)


def test_a_given_model_on_the_cluster_equals_local(client, data):
    X, y = data
    model = LogisticRegression(max_iter=500)
    local = out_of_sample_pred_probs(X, y, model=model, progress=False)
    with joblib.parallel_backend("dask"):
        remote = out_of_sample_pred_probs(X, y, model=model, progress=False)
    np.testing.assert_array_equal(remote, local)


# --------------------------------------------------------------------------- issue 21
# A cluster with a memory limit per worker, the operations a user calls (through the
# Dataset, recorded as usual), and a worker lost mid-run.

MEMORY_LIMIT = "1GiB"


def _cluster(**kw):
    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: another cluster may hold 8787
        memory_limit=MEMORY_LIMIT,
        **kw,
    )


@pytest.fixture(scope="module")
def limited_client():
    with _connected(_cluster()) as c:
        yield c


@pytest.fixture(scope="module")
def frame():
    import pandas as pd

    X, y = make_classification(
        n_samples=2000, n_features=10, n_informative=5, n_classes=3, random_state=1
    )
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(10)])
    noisy = y.copy()
    noisy[::12] = (noisy[::12] + 1) % 3
    df["label"] = noisy
    return df


def _dataset(df, name):
    import dcai_jupyter as dj

    return dj.Dataset(df, label="label", name=name, history=":memory:")


def test_the_workers_have_the_memory_limit(limited_client):
    from dask.utils import parse_bytes

    workers = limited_client.scheduler_info()["workers"].values()
    assert len(workers) == 2
    assert {w["memory_limit"] for w in workers} == {parse_bytes(MEMORY_LIMIT)}


def test_dataset_label_issues_on_a_limited_cluster_equal_local(limited_client, frame):
    local = _dataset(frame, "local").find_label_issues(random_state=3, progress=False)
    ds = _dataset(frame, "remote")
    with joblib.parallel_backend("dask"):
        remote = ds.find_label_issues(random_state=3, progress=False)
    assert remote.frame.equals(local.frame)
    assert remote.flags.sum() > 0  # a real result, not two empty ones
    # the find ran on the cluster and was recorded like any other
    assert ds.history.events["op"].tolist() == ["find_label_issues"]


def test_prune_and_evaluate_on_a_limited_cluster_equal_local(limited_client, frame):
    # prune runs its own tasks (a rule per inner split) through run_tasks; evaluate the folds
    local = _dataset(frame, "local")
    p_local = local.prune(keep=0.5, random_state=2, progress=False)
    e_local = local.evaluate(random_state=2, progress=False)
    ds = _dataset(frame, "remote")
    with joblib.parallel_backend("dask"):
        p_remote = ds.prune(keep=0.5, random_state=2, progress=False)
        e_remote = ds.evaluate(random_state=2, progress=False)
    assert p_remote.frame.equals(p_local.frame)
    assert p_remote.frame.attrs["rule"] == p_local.frame.attrs["rule"]
    assert (e_remote.accuracy, e_remote.macro_f1) == (e_local.accuracy, e_local.macro_f1)
    assert e_remote.per_class.equals(e_local.per_class)


def test_synthesis_and_suggestions_on_a_limited_cluster_equal_local(limited_client, frame):
    # synthesize(target="weakest") measures per-class F1 by cross-validation; an
    # active-learning round fits its model as a run_tasks task
    pooled = frame.assign(label=frame["label"].astype(float))
    pooled.loc[pooled.index % 4 == 0, "label"] = float("nan")

    def run(name):
        ds = _dataset(pooled, name)
        made = ds.synthesize(target="weakest", random_state=5, progress=False)
        picks = ds.suggest_samples(k=15, random_state=5, progress=False)
        return ds.df.loc[made], picks.frame

    made_local, picks_local = run("local")
    with joblib.parallel_backend("dask"):
        made_remote, picks_remote = run("remote")
    assert len(made_local) > 0
    assert made_remote.equals(made_local)
    assert picks_remote.equals(picks_local)


def test_the_run_completes_when_a_worker_is_killed(frame):
    # A fold fit that takes a while, so a worker can be killed while it holds tasks.
    import signal
    import threading
    import time

    from sklearn.ensemble import HistGradientBoostingClassifier

    X = frame.drop(columns="label").to_numpy()
    y = frame["label"].to_numpy()
    model = HistGradientBoostingClassifier(max_iter=25, early_stopping=False, random_state=0)
    local = out_of_sample_pred_probs(X, y, model=model, progress=False)

    with _connected(_cluster()) as client:
        pids = client.run(os.getpid)
        out: dict = {}

        def work():
            try:
                with joblib.parallel_backend("dask"):
                    out["probs"] = out_of_sample_pred_probs(X, y, model=model, progress=False)
            except BaseException as e:  # reported below
                out["error"] = e

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        victim = None
        while thread.is_alive() and victim is None:  # until a worker holds tasks
            busy = [w for w, keys in client.processing().items() if keys and w in pids]
            victim = busy[0] if busy else None
            if victim is None:
                thread.join(0.005)
        assert victim is not None, "the run ended before any task was seen on a worker"
        os.kill(pids[victim], signal.SIGKILL)
        thread.join(300)
        assert not thread.is_alive()
        assert "error" not in out, out.get("error")
        np.testing.assert_array_equal(out["probs"], local)
        # the worker really died: the scheduler drops it (at once, its connection closed)
        deadline = time.monotonic() + 60
        while victim in client.scheduler_info()["workers"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert victim not in client.scheduler_info()["workers"]


def test_the_readme_cluster_snippet_runs_as_written(limited_client, frame):
    # The README's three lines, with the scheduler's address of this test's cluster.
    import re
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    block = next(b for b in blocks if 'parallel_backend("dask")' in b)
    assert "tcp://scheduler:8786" in block
    code = block.replace("tcp://scheduler:8786", limited_client.scheduler_info()["address"])
    ds = _dataset(frame, "readme")
    ns: dict = {"ds": ds}
    exec(compile(code, "README scaling", "exec"), ns)
    try:
        expected = _dataset(frame, "local").find_label_issues(progress=False)
        assert ns["issues"].frame.equals(expected.frame)
    finally:
        ns["client"].close()
