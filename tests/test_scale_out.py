"""Scale-out (issue 12): the one cross-validation runner spreads its folds and fits over a
dask.distributed cluster through ``joblib.parallel_backend("dask")``, with no other change,
and gives the same probabilities and label issues as a local run."""

from __future__ import annotations

import os

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from dcai_jupyter.ops import default_label_issues, out_of_sample_pred_probs, run_tasks

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


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
