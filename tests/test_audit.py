"""``ds.audit()`` and its issue types (issue 20), on small generated data with injected issues.

Each type is an operation of its own (registered; the ones with a change go through
tests/test_operations.py, the find-only ones through the conformance checks here); the
audit composes them from one set of probabilities and one neighbour graph and records
one event.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression

import dcai_jupyter as dj
from dcai_jupyter.ops import (
    ISSUE_TYPES,
    ClassImbalance,
    Identifiers,
    ImageIssues,
    Leakage,
    NonIID,
    TargetLeak,
    UnderperformingGroup,
    get_operation,
    knn_shapley,
)

FIND_ONLY = [ClassImbalance, NonIID, UnderperformingGroup, Leakage, Identifiers, TargetLeak]


def _blobs(n: int = 600, seed: int = 0, k: int = 3, d: int = 4, std: float = 1.0) -> pd.DataFrame:
    X, y = make_blobs(n_samples=n, centers=k, n_features=d, cluster_std=std, random_state=seed)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(d)])
    df["label"] = np.array([f"c{j}" for j in range(k)], dtype=object)[y]
    return df


def _ds(df: pd.DataFrame, **kw) -> dj.Dataset:
    return dj.Dataset(df, label="label", history=":memory:", **kw)


def _messy() -> tuple[pd.DataFrame, dict[str, list[int]]]:
    """600 rows of 3 blobs with every row-level issue injected at known rows."""
    rng = np.random.default_rng(1)
    df = _blobs(600, seed=3, std=1.2).sample(frac=1.0, random_state=0).reset_index(drop=True)
    cols = [f"x{j}" for j in range(4)]
    flips = [int(i) for i in rng.choice(np.arange(20, 600), 12, replace=False)]
    other = {"c0": "c1", "c1": "c2", "c2": "c0"}
    df.loc[flips, "label"] = [other[v] for v in df.loc[flips, "label"]]
    copies = df.iloc[[5, 6, 7, 8]].copy()
    outliers = pd.DataFrame(
        [[60, -60, 60, -60], [-70, 55, 65, 50], [58, 62, -66, 70]], columns=cols
    ).assign(label=["c0", "c1", "c2"])
    nulls = df.iloc[[9, 10, 11]].copy()
    nulls.loc[:, cols[:3]] = np.nan
    rare = pd.DataFrame(rng.normal(0, 0.3, size=(6, 4)) + 25, columns=cols).assign(label="rare")
    out = pd.concat([df, copies, outliers, nulls, rare], ignore_index=True)
    rows = {
        "label": flips,
        "near_duplicate": list(range(600, 604)),
        "outlier": list(range(604, 607)),
        "null": list(range(607, 610)),
        "class_imbalance": list(range(610, 616)),
    }
    return out, rows


# ---------------------------------------------------------------------------- the audit
def test_the_audit_finds_every_injected_issue_and_records_one_event():
    df, rows = _messy()
    ds = _ds(df)
    audit = ds.audit(progress=False)
    assert list(audit.summary.index) == list(ISSUE_TYPES)
    for kind in ("label", "near_duplicate", "outlier", "null", "class_imbalance"):
        flagged = set(audit[kind].flagged.ids.tolist())
        found = set(rows[kind]) & flagged
        if kind == "label":
            assert len(found) >= 9, (kind, sorted(found))
        elif kind == "near_duplicate":
            # a copy and its original form a group: one of each pair is flagged for removal
            groups = audit[kind].frame["group"]
            for r in rows[kind]:
                assert not pd.isna(groups.loc[r]), r
        else:
            assert found == set(rows[kind]), (kind, sorted(flagged))
    assert audit.summary.loc["leakage", "severity"] == "skipped"
    assert audit.summary.loc["image", "severity"] == "skipped"
    assert set(audit.types) == set(ISSUE_TYPES) - {"leakage", "image"}
    # each findings has the schema the widgets read, with its operation's action
    assert audit["label"].action == "relabel" and audit["null"].action == "remove"
    assert audit["label"].op == "label_issues"
    # one event, with its parameters and a summary per type; no per-type find events
    events = _events(ds)
    assert [e["op"] for e in events].count("audit") == 1
    assert not [e for e in events if e["op"].startswith("find_")]
    audit_event = next(e for e in events if e["op"] == "audit")
    assert audit_event["params"]["random_state"] == 0 and audit_event["params"]["cv"] == 5
    assert audit_event["summary"]["label"]["n_flagged"] == int(audit["label"].flags.sum())


def _events(ds: dj.Dataset) -> list[dict]:
    ev = ds.history.events
    frame = ev() if callable(ev) else ev
    return [
        {"op": r["op"], "params": r["params"], "summary": r["summary"]}
        for _, r in pd.DataFrame(frame).iterrows()
    ]


def test_the_audit_computes_probabilities_and_the_neighbour_graph_once(monkeypatch):
    import sys

    from dcai_jupyter.ops import _crossval, _neighbours

    calls = {"probs": 0, "graph": 0, "query": 0, "nearest_two": 0}
    real_probs = _crossval.out_of_sample_pred_probs
    real = {
        "graph": _neighbours.neighbour_graph,
        "query": _neighbours.query,
        "nearest_two": _neighbours.nearest_two,
    }
    # the probabilities' kNN vote searches its reference rows through the service too; those
    # searches are part of the one probability computation, counted apart
    inside = {"probs": False}
    in_probs = {"query": 0}

    def probs(*a, **k):
        calls["probs"] += 1
        inside["probs"] = True
        try:
            return real_probs(*a, **k)
        finally:
            inside["probs"] = False

    # outside it, an exact query only re-measures the few rows about to be flagged as
    # outliers and a 5 % sample for the whitened view's typical distance (the candidates
    # came from one space; see _outliers._scores)
    query_rows: list[int] = []

    def counted(kind):
        def call(*a, **k):
            if inside["probs"] and kind == "query":
                in_probs["query"] += 1
            elif kind == "query":
                query_rows.append(len(np.atleast_1d(a[1])))
            else:
                calls[kind] += 1
            return real[kind](*a, **k)

        return call

    monkeypatch.setattr(_crossval, "out_of_sample_pred_probs", probs)
    # every neighbour search of every operation goes through the service: wrap it
    # wherever a module holds it under its name
    for name, module in list(sys.modules.items()):
        if not name.startswith("dcai_jupyter.ops"):
            continue
        for kind, fn in real.items():
            for attr in ("neighbour_graph", "query", "nearest_two"):
                if getattr(module, attr, None) is fn:
                    monkeypatch.setattr(module, attr, counted(kind))
    df = _blobs(300)
    df = pd.concat([df, df.iloc[:3]], ignore_index=True)  # exact copies
    df.loc[len(df)] = [60.0, -60.0, 60.0, -60.0, "c0"]  # an outlier
    ds = _ds(df)
    audit = ds.audit(progress=False)
    assert calls == {"probs": 1, "graph": 1, "query": 0, "nearest_two": 0}, calls
    assert all(r <= len(df) // 20 for r in query_rows), query_rows  # samples, not a search
    assert in_probs["query"] >= 1  # the kNN vote's reference search, inside the probabilities
    # and the types that read it found what they find on their own
    assert audit.summary.loc["near_duplicate", "rows"] == 3
    assert audit.summary.loc["outlier", "rows"] >= 1


def test_the_audits_label_findings_are_those_of_find_label_issues():
    df, _ = _messy()
    ds = _ds(df)
    audit = ds.audit(types=["label"], progress=False)
    alone = ds.find_label_issues()
    assert audit["label"].digest() == alone.digest()
    assert audit["label"].key == alone.key  # the same review state
    pd.testing.assert_frame_equal(audit["label"].frame, alone.frame)
    # accepted through the facade like any label findings
    v = ds.accept_suggestions(audit["label"], top=2)
    assert v == 1


def test_the_audit_takes_probabilities_a_caller_has():
    df = _blobs(300)
    ds = _ds(df)
    codes = pd.Categorical(df["label"], categories=ds.classes).codes
    P = np.full((300, 3), 0.05)
    P[np.arange(300), codes] = 0.9
    for r in (3, 4):  # two rows the model puts in another class
        P[r] = 0.05
        P[r, (codes[r] + 1) % 3] = 0.9
    audit = ds.audit(types=["label", "underperforming_group"], pred_probs=P, progress=False)
    assert {3, 4} <= set(audit["label"].flagged.ids.tolist())
    with pytest.raises(Exception, match="pred_probs must have"):
        ds.audit(types=["label"], pred_probs=P[:10], progress=False).__getitem__("label")


def test_types_and_errors():
    ds = _ds(_blobs(200))
    with pytest.raises(ValueError, match="unknown issue types"):
        ds.audit(types=["label", "nope"], progress=False)
    with pytest.raises(ValueError, match="pass test="):
        ds.audit(types=["leakage"], progress=False)
    audit = ds.audit(types="null", progress=False)
    assert audit.types == ["null"]
    with pytest.raises(KeyError, match="no 'label' findings"):
        audit["label"]
    text = audit.report()
    assert "null" in text and "rows" in text
    assert "<script" not in audit._repr_html_()


def test_on_clean_data_every_type_flags_under_one_percent():
    df = _blobs(1500, seed=5, k=4, d=6, std=1.0).sample(frac=1.0, random_state=2)
    ds = _ds(df.reset_index(drop=True))
    test = _blobs(300, seed=6, k=4, d=6).drop(columns="label")
    audit = ds.audit(test=test, progress=False)
    for kind, row in audit.summary.iterrows():
        if row["severity"] == "skipped":
            continue
        assert row["error"] == "", (kind, row["error"])
        assert row["share"] < 0.01, (kind, row["rows"])
    assert audit.summary.loc["non_iid", "severity"] == "none"
    assert not audit["identifier"].frame.attrs["columns"]
    assert not audit["target_leak"].frame.attrs["columns"]


# ---------------------------------------------------------------------------- each type
def test_non_iid_sorted_rows_are_flagged_and_shuffled_ones_are_not():
    df = _blobs(600, seed=1)
    sorted_ds = _ds(df.sort_values("label", kind="stable").reset_index(drop=True))
    shuffled = _ds(df.sample(frac=1.0, random_state=4).reset_index(drop=True))
    a = sorted_ds.find_non_iid()
    b = shuffled.find_non_iid()
    assert a.frame.attrs["p_value"] < 1e-6 and a.frame.attrs["statistic"] > 0.1
    assert a.flags.mean() > 0.3
    assert b.frame.attrs["p_value"] > 0.01 and not b.flags.any()


def test_non_iid_drift_shows_where_it_is():
    rng = np.random.default_rng(0)
    n = 800
    X = rng.normal(size=(n, 3))
    X[600:, 0] += np.linspace(0, 6, 200)  # the last quarter drifts away
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=np.where(X[:, 1] > 0, "p", "q"))
    f = _ds(df).find_non_iid()
    assert f.frame.attrs["p_value"] < 0.01
    flagged = f.flagged.ids
    assert np.mean(flagged >= 600) > 0.8, np.sort(flagged)


def test_underperforming_group_finds_the_region_of_flipped_labels():
    rng = np.random.default_rng(0)
    n = 2000
    X = rng.uniform(-3, 3, size=(n, 2))
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    region = np.hypot(X[:, 0] - 1.5, X[:, 1] - 1.5) < 0.9
    flip = region & (rng.random(n) < 0.4)
    y[flip] = 1 - y[flip]
    df = pd.DataFrame(X, columns=["a", "b"]).assign(label=np.array(["l", "r"])[y])
    f = _ds(df).find_underperforming_groups()
    flagged = np.zeros(n, dtype=bool)
    flagged[f.flagged.ids] = True
    assert flagged.any()
    precision = (flagged & region).sum() / flagged.sum()
    recall = (flagged & region).sum() / region.sum()
    assert precision > 0.5 and recall > 0.5, (precision, recall)
    assert f.column("group") is not None and f.frame.loc[f.flagged.ids, "group"].notna().all()
    assert f.frame.attrs["groups"]


def test_knn_shapley_is_the_exact_shapley_value_of_the_knn_utility():
    # one validation point (row 0) and five training points (rows 1..5) at distances 1..5
    labels = np.array([1, 1, 0, 1, 0, 1])
    idx = np.full((6, 5), 0)
    idx[0] = [1, 2, 3, 4, 5]
    valid = np.zeros(6, dtype=bool)
    valid[0] = True
    k = 3
    got = knn_shapley(idx, labels, k, valid=valid)[1:]

    def utility(subset: tuple[int, ...]) -> float:
        nearest = sorted(subset)[:k]  # training rows sorted by distance = by number
        return sum(labels[j] == labels[0] for j in nearest) / k

    exact = np.zeros(5)
    perms = list(itertools.permutations(range(1, 6)))
    for perm in perms:
        for i, j in enumerate(perm):
            exact[j - 1] += utility(perm[: i + 1]) - utility(perm[:i])
    exact /= len(perms)
    np.testing.assert_allclose(got, exact, atol=1e-12)


def test_data_valuation_flags_flipped_labels_first_and_removes_them():
    df = _blobs(600, seed=2, std=1.5)
    rng = np.random.default_rng(0)
    flips = rng.choice(600, 30, replace=False)
    other = {"c0": "c1", "c1": "c2", "c2": "c0"}
    df.loc[flips, "label"] = [other[v] for v in df.loc[flips, "label"]]
    ds = _ds(df)
    f = ds.find_low_value()
    lowest = f.sorted().ids[:30]
    assert len(set(lowest.tolist()) & set(flips.tolist())) >= 24
    n = int(f.flags.sum())
    assert n >= 25
    v = ds.remove_flagged(f, top=5)
    assert v == 1 and len(ds) == 595


def test_null_rows_and_columns():
    df = _blobs(100)
    df["mostly_empty"] = np.nan
    df.loc[:4, "mostly_empty"] = 1.0
    df.loc[[7, 8], ["x0", "x1", "x2"]] = np.nan
    f = _ds(df).find_null_rows()
    assert sorted(f.flagged.ids.tolist()) == [7, 8]
    assert f.frame.attrs["columns"] == {"mostly_empty": 0.95}
    assert "4 of 5 columns missing" in f.frame.loc[7, "reason"]


def test_class_imbalance_flags_only_the_rare_classes():
    df = pd.concat([_blobs(300, k=3), _blobs(30, seed=9, k=3).assign(label="rare")[:8]])
    f = _ds(df.reset_index(drop=True)).find_class_imbalance()
    assert set(f.flagged.frame["class_count"]) == {8}
    assert f.frame.attrs["classes"] == {"rare": 8}
    assert _ds(_blobs(300)).find_class_imbalance().flags.sum() == 0


def test_leakage_finds_exact_and_near_copies_of_training_rows():
    df = _blobs(400, seed=0)
    rng = np.random.default_rng(0)
    test = _blobs(100, seed=11).drop(columns="label")
    cols = test.columns
    test.iloc[:5] = df[cols].iloc[[10, 20, 30, 40, 50]].to_numpy()  # exact
    test.iloc[5:8] = df[cols].iloc[[60, 70, 80]].to_numpy() + rng.normal(0, 1e-4, (3, 4))  # near
    test.index = [f"t{i}" for i in range(100)]
    ds = _ds(df)
    f = ds.find_leakage(test=test)
    assert sorted(f.flagged.ids.tolist()) == [10, 20, 30, 40, 50, 60, 70, 80]
    assert f.frame.attrs["test_rows"]["t0"] == 10
    assert "exact copy" in f.frame.loc[10, "reason"] and "t0" in f.frame.loc[10, "reason"]
    assert f.frame.loc[60, "reason"].startswith("near copy")
    # recorded as a digest of the test rows, not the rows
    assert set(f.params["test"]) == {"rows", "digest"} and f.params["test"]["rows"] == 100
    with pytest.raises(TypeError, match="test="):
        ds.find_leakage()
    with pytest.raises(ValueError, match="no column"):
        ds.find_leakage(test=test.drop(columns="x1"))


def test_identifier_and_target_leak_columns():
    df = _blobs(300, seed=0)
    rng = np.random.default_rng(0)
    df["row_key"] = [f"r{i:05d}" for i in rng.permutation(300)]
    df["order_no"] = rng.permutation(300) + 1000
    df["answer"] = df["label"].map({"c0": "A", "c1": "B", "c2": "C"})
    df["noisy_answer"] = np.where(rng.random(300) < 0.3, "Z", df["answer"])
    ds = _ds(df, roles={"row_key": "categorical", "order_no": "numeric"})
    ids = ds.find_identifiers()
    assert set(ids.frame.attrs["columns"]) == {"row_key", "order_no"}
    assert not ids.flags.any()
    leak = ds.find_target_leaks()
    assert set(leak.frame.attrs["columns"]) == {"answer"}, leak.frame.attrs["columns"]


def test_image_issues_as_cleanvision_defines_them():
    rng = np.random.default_rng(0)
    imgs = []
    for _ in range(40):
        base = rng.integers(0, 256, size=(24, 24, 3)).astype(np.uint8)
        imgs.append(base)
    imgs[1] = (imgs[1] // 10).astype(np.uint8)  # dark
    imgs[2] = np.clip(imgs[2].astype(int) // 20 + 245, 0, 255).astype(np.uint8)  # overexposed
    smooth = np.linspace(0, 255, 24)[None, :, None] * np.ones((24, 1, 3))
    imgs[3] = smooth.astype(np.uint8)  # blurry (no edges)
    imgs[4] = np.full((24, 24, 3), 120, dtype=np.uint8)  # no information
    imgs[5] = rng.integers(0, 256, size=(8, 40, 3)).astype(np.uint8)  # odd aspect ratio
    imgs[6] = rng.integers(0, 256, size=(120, 120, 3)).astype(np.uint8)  # odd size
    df = pd.DataFrame({"image": imgs, "label": ["a", "b"] * 20})
    ds = _ds(df)
    f = ds.find_image_issues()
    issues = f.frame["issues"]
    assert issues.loc[1] == "dark"
    assert "light" in issues.loc[2]
    assert "blurry" in issues.loc[3]
    assert "low_information" in issues.loc[4]
    assert issues.loc[5] == "odd_aspect_ratio"
    assert issues.loc[6] == "odd_size"
    assert sorted(f.flagged.ids.tolist()) == [1, 2, 3, 4, 5, 6], f.frame.loc[
        f.flagged.ids, "issues"
    ]
    audit = ds.audit(types=["image", "null"], progress=False)
    assert audit["image"].digest() == f.digest()
    with pytest.raises(ValueError, match="unknown image issues"):
        ImageIssues(issues=["nope"]).find(ds)


# ---------------------------------------------------------------------------- find-only ops
def _example(cls):
    (ex,) = cls.conformance_example()[:1]
    return ex


@pytest.mark.parametrize("cls", FIND_ONLY, ids=lambda c: c.name)
def test_find_only_types_are_registered_deterministic_and_change_nothing(cls):
    assert get_operation(cls.name) is cls and not cls.change_op
    ex = _example(cls)
    op = ex["operation"]
    params = op.json_params()
    json.dumps(params)
    if cls is not Leakage:  # leakage records its test set as a digest
        assert type(op).from_params(json.loads(json.dumps(params))).json_params() == params
    with pytest.raises(TypeError):
        cls(*params.values())
    frame = ex["frame"].copy(deep=True)
    ds1 = _ds(ex["frame"], **{k: v for k, v in ex["dataset"].items() if k != "label"})
    ds2 = _ds(ex["frame"], **{k: v for k, v in ex["dataset"].items() if k != "label"})
    fp, version = ds1.fingerprint, ds1.version
    f1, f2 = op.find(ds1), op.find(ds2)
    assert f1.digest() == f2.digest() and f1.digest() == op.find(ds1).digest()
    assert ds1.fingerprint == fp and ds1.version == version
    pd.testing.assert_frame_equal(ex["frame"], frame)
    assert f1.op == cls.name and len(f1) > 0
    # the example shows the issue
    attrs = f1.frame.attrs
    assert f1.flags.any() or attrs.get("columns"), cls.name


def test_the_facade_methods_are_the_operations():
    ds = _ds(_blobs(120))
    f = ds.find_class_imbalance(ratio=0.5)
    assert f.params == {"ratio": 0.5} and f.op == "class_imbalance"
    with pytest.raises(TypeError):
        ds.find_non_iid(nope=1)
    model = LogisticRegression(max_iter=200)
    g = ds.find_underperforming_groups(model=model, cv=3)
    assert g.params["cv"] == 3
    assert math.isfinite(float(g.scores.max()))


# ---------------------------------------------------------------------------- the report
def test_audit_report_rows_open_and_actions():
    df, _ = _messy()
    ds = _ds(df)
    audit = ds.audit(progress=False)
    report = dj.AuditReport(audit)
    table = report.table.rows
    assert [r["type"] for r in table] == list(ISSUE_TYPES)
    by = {r["type"]: r for r in table}
    assert by["null"]["rows"] == 3 and by["null"]["action"] == "remove"
    assert sum(by["null"]["hist_flagged"]) == 3 and len(by["null"]["hist"]) == 24
    assert not by["leakage"]["openable"] and by["leakage"]["detail"] == "no test set (pass test=)"
    # a click (the front end sets `selected`) opens a grid of that type, flagged only
    report.table.selected = "outlier"
    assert report.grid is not None and report.grid.findings is audit["outlier"]
    assert report.grid.query["filter"] == {"flagged": True}
    assert report.show("label") is report.grid and report.grid.findings is audit["label"]
    with pytest.raises(KeyError):
        report.show("leakage")
    # actions: one recorded change each, under the operation that found them
    report.table._handle_custom_msg({"type": "act", "issue": "null"}, [])
    assert ds.version == 1 and len(ds) == len(df) - 3
    assert "version 1" in report.table.status and report.table.error == ""
    assert report.act("label") == 2
    assert ds.history.changes["op"].tolist() == ["remove_null", "accept_suggestions"]
    report.table._handle_custom_msg({"type": "act", "issue": "non_iid"}, [])
    assert "no action" in report.table.error
    with pytest.raises(TypeError, match=r"ds\.audit"):
        dj.AuditReport(audit["label"])


def test_the_readme_audit_snippet_runs():
    import re
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    block = next(b for b in blocks if "ds.audit()" in b)
    ns = {"dj": dj, "ds": _ds(_blobs(200))}
    exec(compile(block, "README audit", "exec"), ns)
    assert ns["audit"].types and isinstance(ns["audit"].summary, pd.DataFrame)


def test_prune_by_value_drops_the_flipped_labels_first():
    df = _blobs(300, seed=2, std=1.5)
    rng = np.random.default_rng(0)
    flips = rng.choice(300, 15, replace=False)
    other = {"c0": "c1", "c1": "c2", "c2": "c0"}
    df.loc[flips, "label"] = [other[v] for v in df.loc[flips, "label"]]
    ds = _ds(df)
    pruned = ds.prune(keep=0.9, method="value", cv=3, progress=False)
    dropped = set(pruned.flagged.ids.tolist())
    assert 28 <= len(dropped) <= 32 and len(dropped & set(flips.tolist())) >= 12
    assert pruned.frame.attrs["rule"] == "value"
    assert ds.remove_flagged(pruned) == 1 and len(ds) == 300 - len(dropped)
