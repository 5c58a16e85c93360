"""Conformance of every registered operation family (``dcai_jupyter.ops.registry()``).

Each family registered with ``@register`` is checked here automatically:

- its parameters survive a JSON round trip (``from_params(json.loads(json.dumps(json_params())))``)
  and the registry rebuilds it from its recorded op name;
- given ``random_state``, ``find`` and ``plan`` are deterministic (same Findings digest,
  same Change deltas), on one dataset and on two built from the same data;
- ``find`` and ``plan`` mutate nothing: not the dataset (fingerprint, version, history),
  not the input frame, not the findings;
- ``apply`` records one change under the family's ``change_op``, and ``ds.undo()``
  restores the exact fingerprint;
- ``open_history(path).replay(base_df)`` equals the live state after ``apply``, and recipe
  replay (``rebuild(op, params).replay(ds, params)``) re-plans the same change on the
  same data.

**A new family needs an example** (a registered class without one fails every test
here): add a function to ``EXAMPLES`` below, keyed by the class's ``change_op``, or give
the class a classmethod ``conformance_example()``. Either returns a list of
:class:`Example` (or dicts with the same fields): small data (a second or two of work),
an operation with ``random_state`` fixed where it has one, and ``apply`` options that
change at least one row.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression

import dcai_jupyter as dj
from dcai_jupyter.ops import Operation, get_operation, rebuild, registry


@dataclass
class Example:
    """One conformance case: base data, how to wrap it, the operation, the apply options."""

    frame: pd.DataFrame
    dataset: dict[str, Any]  # keyword arguments of dj.Dataset (label=..., classes=...)
    operation: Operation
    options: dict[str, Any] = field(default_factory=dict)  # plan/apply keyword options
    name: str = "default"


# ---------------------------------------------------------------------------- examples
def _noisy_blobs(n: int = 90, flips: int = 9, seed: int = 0) -> pd.DataFrame:
    X, y = make_blobs(n_samples=n, centers=3, n_features=3, cluster_std=1.0, random_state=seed)
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, flips, replace=False)
    y = y.copy()
    y[idx] = (y[idx] + 1) % 3
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["label"] = np.array(["ant", "bee", "cat"], dtype=object)[y]
    return df


def _label_issues_examples() -> list[Example]:
    from dcai_jupyter.ops import LabelIssues

    df = _noisy_blobs()
    return [
        Example(
            df,
            {"label": "label"},
            LabelIssues(cv=3, random_state=0, progress=False),
            {"top": 4, "reason": "conformance"},
            name="default ensemble",
        ),
        Example(
            df,
            {"label": "label"},
            LabelIssues(
                model=LogisticRegression(C=0.5, max_iter=500),
                cv=3,
                random_state=1,
                progress=False,
                features=["a", "b"],
            ),
            {},
            name="estimator and features",
        ),
    ]


#: examples by the family's change_op (see the module docstring)
EXAMPLES: dict[str, Callable[[], list[Example]]] = {
    "accept_suggestions": _label_issues_examples,
}

OPS = sorted(registry())
#: operations that record a change (the others only find: suggest_samples, audit types)
APPLY_OPS = [op for op in OPS if registry()[op].change_op]


def _examples(op_name: str) -> list[Example]:
    cls = get_operation(op_name)
    own = getattr(cls, "conformance_example", None)
    if op_name in EXAMPLES:
        found: list[Any] = EXAMPLES[op_name]()
    elif callable(own):
        found = list(own())
    else:
        pytest.fail(
            f"operation {cls.__qualname__} (registered as {op_name!r}) has no conformance "
            "example: add one to EXAMPLES in tests/test_operations.py or define "
            f"{cls.__name__}.conformance_example()"
        )
    out = [e if isinstance(e, Example) else Example(**e) for e in found]
    assert out, f"the conformance examples of {op_name!r} are an empty list"
    for e in out:
        assert isinstance(e.operation, cls), f"{op_name!r} example gives a {type(e.operation)}"
    return out


def _dataset(ex: Example, history: Any = ":memory:") -> dj.Dataset:
    return dj.Dataset(ex.frame, history=history, **ex.dataset)


def _find(op: Operation, ds: dj.Dataset) -> dj.Findings | None:
    # an operation that only finds is all find; one that records a change finds first
    # where its plan needs findings
    cls = type(op)
    return op.find(ds) if cls.needs_findings or not cls.change_op else None


def _deltas(change: dj.Change) -> str:
    return json.dumps(list(change.deltas), sort_keys=True, allow_nan=True)


def _frame_copy(df: pd.DataFrame) -> pd.DataFrame:
    # a deep copy that also copies array cells (images), so in-place edits would show
    out = df.copy(deep=True)
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = [copy.deepcopy(v) for v in out[c]]
    return out


def _assert_same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)


# ---------------------------------------------------------------------------- the registry
def test_the_registry_holds_the_builtin_families():
    reg = registry()
    assert "accept_suggestions" in reg
    for op_name, cls in reg.items():
        assert issubclass(cls, Operation)
        assert (cls.change_op or cls.name) == op_name and cls.name
        assert get_operation(op_name) is cls and get_operation(cls.name) is cls
    with pytest.raises(KeyError, match="no operation is registered as 'nope'"):
        get_operation("nope")


@pytest.mark.parametrize("op_name", OPS)
def test_params_round_trip_through_json(op_name):
    cls = get_operation(op_name)
    for ex in _examples(op_name):
        op = ex.operation
        params = op.json_params()
        text = json.dumps(params)  # plain JSON: no NaN, no objects
        again = cls.from_params(json.loads(text))
        assert type(again) is cls
        assert again.json_params() == params, ex.name
        for k, v in op.get_params().items():
            if isinstance(v, (pd.DataFrame, pd.Series, np.ndarray)):
                continue  # data passed to find (a test set) is recorded by digest
            if not (hasattr(v, "get_params") or callable(v)):  # estimators compare by JSON
                assert again.get_params()[k] == v, (ex.name, k)
        # the registry rebuilds it from what a change records
        rebuilt = rebuild(op_name, {"operation": json.loads(text)})
        assert type(rebuilt) is cls and rebuilt.json_params() == params
        # every option is keyword-only (sklearn style)
        with pytest.raises(TypeError):
            cls(*params.values())  # type: ignore[misc]


@pytest.mark.parametrize("op_name", OPS)
def test_find_and_plan_are_deterministic(op_name):
    for ex in _examples(op_name):
        ds1, ds2 = _dataset(ex), _dataset(ex)
        op = ex.operation
        f1 = _find(op, ds1)
        f1_again = _find(op, ds1)
        data = any(isinstance(v, pd.DataFrame) for v in op.get_params().values())
        # an operation given data (leakage's test set) records it by digest: rebuild it
        # from its parameters as given
        twin = type(op)(**op.get_params()) if data else type(op).from_params(op.json_params())
        f2 = _find(twin, ds2)
        if f1 is not None:
            assert f1.digest() == f1_again.digest() == f2.digest(), ex.name
            pd.testing.assert_frame_equal(f1.frame, f2.frame)
        if not type(op).change_op:  # it only finds
            with pytest.raises(TypeError, match="only finds"):
                op.plan(ds1, f1)
            continue
        c1 = op.plan(ds1, f1, **ex.options)
        c1_again = op.plan(ds1, f1_again, **ex.options)
        c2 = op.plan(ds2, f2, **ex.options)
        assert not c1.empty, f"{op_name} example {ex.name!r} must change at least one row"
        assert _deltas(c1) == _deltas(c1_again) == _deltas(c2), ex.name
        assert c1.params == c2.params and c1.fingerprint == c2.fingerprint
        assert c1.op == op_name


@pytest.mark.parametrize("op_name", OPS)
def test_find_and_plan_mutate_nothing(op_name):
    for ex in _examples(op_name):
        frame_before = _frame_copy(ex.frame)
        ds = _dataset(ex)
        fp, version = ds.fingerprint, ds.version
        params_before = ex.operation.json_params()
        findings = _find(ex.operation, ds)
        assert (ds.fingerprint, ds.version) == (fp, version)
        if findings is not None:
            findings_before = findings.frame.copy(deep=True)
            digest = findings.digest()
        if not type(ex.operation).change_op:  # it only finds
            assert len(ds.history.changes) == 0 and len(ds.history.events) == 1
            _assert_same_frame(ex.frame, frame_before)
            _assert_same_frame(ds.df, _dataset(ex).df)
            assert ex.operation.json_params() == params_before
            continue
        change = ex.operation.plan(ds, findings, **ex.options)
        assert (ds.fingerprint, ds.version) == (fp, version), ex.name
        assert len(ds.history.changes) == 0
        assert change.base == fp
        _assert_same_frame(ex.frame, frame_before)
        _assert_same_frame(ds.df, _dataset(ex).df)
        assert ex.operation.json_params() == params_before
        if findings is not None:
            _assert_same_frame(findings.frame, findings_before)
            assert findings.digest() == digest


@pytest.mark.parametrize("op_name", APPLY_OPS)
def test_apply_is_one_change_and_undo_restores_the_fingerprint(op_name):
    for ex in _examples(op_name):
        ds = _dataset(ex)
        fp0 = ds.fingerprint
        findings = _find(ex.operation, ds)
        planned = ex.operation.plan(ds, findings, **ex.options)
        v = ex.operation.apply(ds, findings, **ex.options)
        assert v == ds.version == 1, ex.name
        assert ds.fingerprint == planned.fingerprint != fp0
        ch = ds.history.changes
        assert len(ch) == 1 and ch["op"].iloc[0] == op_name
        params = ch["params"].iloc[0]
        assert params["operation"] == ex.operation.json_params()
        assert json.loads(json.dumps(params)) == params
        assert ds.undo() == 2
        assert ds.fingerprint == fp0, ex.name
        _assert_same_frame(ds.df, _dataset(ex).df)


@pytest.mark.parametrize("op_name", APPLY_OPS)
def test_replay_equals_the_live_state(op_name, tmp_path):
    for i, ex in enumerate(_examples(op_name)):
        path = tmp_path / f"{i}.sqlite"
        ds = _dataset(ex, history=path)
        findings = _find(ex.operation, ds)
        planned = ex.operation.plan(ds, findings, **ex.options)
        ds.apply(planned)
        live = ds.fingerprint
        history = dj.open_history(path)
        replayed = history.replay(ex.frame)  # strict: checks the recorded fingerprints
        _assert_same_frame(replayed, ds.df)
        assert history.changes["fingerprint"].iloc[-1] == live
        assert dj.Dataset(ex.frame, history=path, **ex.dataset).fingerprint == live  # resume
        recorded = history.changes["params"].iloc[-1]
        # recipe replay onto the same data reaches the same state, by rule or by selection
        result = ds.history.replay_recipe(ex.frame, progress=False)
        assert len(result.needs_review) == 0 and len(result.skipped) == 0, ex.name
        assert result.dataset.fingerprint == live, ex.name
        kind = result.applied["kind"].iloc[-1]
        assert kind == ("selection" if recorded.get("selection") else "operation"), ex.name
        if recorded.get("selection"):
            # a selection is not re-planned by the rule: replay carries it by sample id
            with pytest.raises(ValueError, match="selection"):
                rebuild(op_name, recorded).replay(_dataset(ex), recorded)
            continue
        # by rule: the recorded name and params re-run the operation on (new) data
        fresh = _dataset(ex)
        change = rebuild(op_name, recorded).replay(fresh, recorded)
        assert change.op == op_name and change.params == planned.params, ex.name
        assert _deltas(change) == _deltas(planned), ex.name
        fresh.apply(change)
        assert fresh.fingerprint == live
