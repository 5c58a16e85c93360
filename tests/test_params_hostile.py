"""A history file is data: no recorded parameter can make replay import or run anything.

Every place that reads recorded params gets the same hostile payloads: ``from_json``,
``Operation.from_params`` / ``rebuild`` of every registered operation, recipe replay from a
real SQLite history file whose ``changes.params`` was edited (through ``ds.history`` and
``dj.open_history``), and ``dcai replay --recipe``. Each payload that could run code aims at
a sentinel file (``touch <tmp>/sentinel``); the sentinel is never written and the result is
a clear ``ParamError`` (for the CLI: a one-line error, a non-zero exit and no output file).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

import dcai_jupyter as dj
from dcai_jupyter._cli import main as cli_main
from dcai_jupyter.ops import ParamError, _params, get_operation, rebuild, registry
from dcai_jupyter.ops._params import MAX_DEPTH, MAX_SIZE, from_json, to_json
from dcai_jupyter.ops._recipe import replay_recipe

LR = "sklearn.linear_model._logistic.LogisticRegression"
HUGE = "x" * (MAX_SIZE + 1)


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def _est(qualified: Any, /, **params: Any) -> dict[str, Any]:
    return {"__estimator__": qualified, "params": params}


def _fn(name: Any) -> dict[str, Any]:
    return {"__callable__": name}


def payloads(sentinel: Path) -> list[tuple[str, Any]]:
    """(id, value) pairs to put where a recorded parameter value goes."""
    cmd = f"touch {sentinel}"
    argv = ["touch", str(sentinel)]
    opener = f"open({str(sentinel)!r}, 'w')"
    return [
        # attribute walks through a trusted module's globals (the reported exploit)
        ("walk-dataset-os-system", _est("dcai_jupyter.core._dataset.os.system", command=cmd)),
        ("walk-sklearn-base-os", _est("sklearn.base.os.system", command=cmd)),
        ("walk-callable-os", _fn("dcai_jupyter.core._dataset.os.system")),
        (
            "walk-params-importlib",
            _est("dcai_jupyter.ops._params.importlib.import_module", name="os"),
        ),
        # builtins and dunders
        ("builtins-eval", _fn("builtins.eval")),
        ("builtins-exec", _est("builtins.exec", source=opener)),
        ("dunder-import", _fn("__import__")),
        ("bare-eval", _est("eval", source=opener)),
        ("sklearn-class", {"__estimator__": "sklearn.__class__"}),
        ("init-globals", {"__estimator__": "sklearn.base.BaseEstimator.__init__.__globals__"}),
        ("dunder-builtins", _est("sklearn.__builtins__.eval", source=opener)),
        # the standard library's ways to run things
        ("os-system", _est("os.system", command=cmd)),
        ("callable-os-system", _fn("os.system")),
        ("subprocess-run", _est("subprocess.run", args=argv)),
        ("subprocess-popen", _est("subprocess.Popen", args=argv)),
        ("importlib", _est("importlib.import_module", name="os")),
        ("pickle-loads", _est("pickle.loads", data="cos\nsystem\n.")),
        # numpy and scipy are no longer trusted at all
        ("numpy-load", _est("numpy.load", file=str(sentinel), allow_pickle=True)),
        ("numpy-fromfile", _est("numpy.fromfile", file="/etc/hostname")),
        ("numpy-testing", _est("numpy.testing.assert_equal", actual=1, desired=1)),
        ("scipy-loadmat", _est("scipy.io.loadmat", file_name=str(sentinel))),
        # trusted packages, but not a BaseEstimator class
        ("sklearn-function", _est("sklearn.datasets._base.load_files", container_path="/")),
        ("dcai-history-class", _est("dcai_jupyter.core._history.History", path=str(sentinel))),
        ("dcai-trust-module", _est("dcai_jupyter.ops._params.trust_module", prefix="os")),
        ("unregistered-dcai-function", _fn("dcai_jupyter.ops._params.register_transform")),
        ("public-reexport", {"__estimator__": "sklearn.linear_model.os"}),
        # an allowed estimator carrying a hostile function or an unknown parameter
        (
            "function-transformer",
            _est(
                "sklearn.preprocessing._function_transformer.FunctionTransformer",
                func=_fn("os.system"),
            ),
        ),
        ("function-sampler", _est("imblearn.base.FunctionSampler", func=_fn("os.system"))),
        ("estimator-unknown-param", _est(LR, __class__="os.system")),
        ("estimator-extra-key", {**_est(LR), "__reduce__": ["os.system", [cmd]]}),
        (
            "pipeline-cache-pickles",
            _est("sklearn.pipeline.Pipeline", steps=[], memory=str(sentinel.parent)),
        ),
        (
            "pipeline-hostile-step",
            _est("sklearn.pipeline.Pipeline", steps=[["x", _est("os.system", command=cmd)]]),
        ),
        # wrong types
        ("estimator-number", {"__estimator__": 5}),
        ("estimator-list", {"__estimator__": ["os", "system"]}),
        ("callable-number", _fn(42)),
        ("callable-null", _fn(None)),
        ("estimator-params-list", {"__estimator__": LR, "params": [["C", 1.0]]}),
        ("callable-extra-key", {"__callable__": "jitter", "args": [cmd]}),
        ("unknown-marker", {"__import__": "os"}),
        ("reduce-marker", {"__reduce__": ["os.system", [cmd]]}),
        ("bad-int-key", {"__int__x": 1}),
        ("not-finite", float("nan")),
        # SQL text and odd strings as names
        ("sql-estimator", {"__estimator__": "'; DROP TABLE changes; --"}),
        ("sql-callable", _fn("x'); DELETE FROM changes; --")),
        ("newline-name", {"__estimator__": LR + "\nimport os"}),
        ("long-name", {"__estimator__": "sklearn." + "a" * 10_000}),
        # too deep, too big
        ("deep", _nested(MAX_DEPTH + 5)),
        ("very-deep", _nested(5_000)),
        ("huge", HUGE),
    ]


IDS = [name for name, _ in payloads(Path("s"))]


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    return tmp_path / "sentinel"


def _payload(name: str, sentinel: Path) -> Any:
    return dict(payloads(sentinel))[name]


def test_there_are_enough_payloads():
    assert len(IDS) >= 25 and len(set(IDS)) == len(IDS)


# ---------------------------------------------------------------------------- from_json
@pytest.mark.parametrize("name", IDS)
def test_from_json_refuses(name: str, sentinel: Path) -> None:
    value = _payload(name, sentinel)
    with pytest.raises(ParamError):
        from_json(value)
    with pytest.raises(ParamError):
        from_json({"model": value})
    assert not sentinel.exists()


def test_from_json_refuses_what_is_not_json_data(sentinel: Path) -> None:
    for value in [object(), {1, 2}, (1, 2), b"bytes", print, {1: "int key"}]:
        with pytest.raises(ParamError):
            from_json(value)


# ---------------------------------------------------------------------------- every operation
@pytest.mark.parametrize("op", sorted(registry()))
def test_every_operation_refuses_every_payload_in_every_parameter(op: str, sentinel: Path) -> None:
    cls = get_operation(op)
    hostile = payloads(sentinel)
    for pname in cls._param_names():
        for _name, value in hostile:
            with pytest.raises(ParamError, match=op):
                cls.from_params({pname: value})
            with pytest.raises(ParamError, match=op):
                rebuild(op, {"operation": {pname: value}})
    assert not sentinel.exists(), op


@pytest.mark.parametrize("op", sorted(registry()))
@pytest.mark.parametrize(
    "params",
    [[], "operation", 3, None, [["threshold", 0.5]], {"command": "touch x"}, {"__class__": {}}],
    ids=["list", "string", "number", "null", "pairs", "unknown", "dunder"],
)
def test_every_operation_refuses_malformed_params(op: str, params: Any) -> None:
    cls = get_operation(op)
    with pytest.raises(ParamError, match=op):
        cls.from_params(params)
    if params is not None:  # a recorded "operation": null is the defaults
        with pytest.raises(ParamError, match=op):
            rebuild(op, {"operation": params})
    if not isinstance(params, dict):
        with pytest.raises(ParamError, match=op):
            rebuild(op, params)


# ---------------------------------------------------------------------------- a history file
def _base() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"x": rng.normal(size=30), "y": [str(i % 3) for i in range(30)]},
        index=pd.Index(np.arange(100, 130), name="sample_id"),
    )


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A real history file: v1 an operation (augment), v2 a person's relabel."""
    path = tmp_path / "h.sqlite"
    ds = dj.Dataset(_base(), label="y", name="h", history=path)
    ds.augment("jitter")  # a rule (every labeled row), not a selection
    ds.relabel([102], ["0"], reason="looked")
    _base().to_csv(tmp_path / "base.csv")
    del ds
    return path


def _params_of(path: Path, seq: int) -> Any:
    with sqlite3.connect(path) as con:
        return json.loads(
            con.execute("SELECT params FROM changes WHERE seq = ?", (seq,)).fetchone()[0]
        )


def _set_params(path: Path, seq: int, text: str) -> None:
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE changes SET params = ? WHERE seq = ?", (text, seq))
    con.close()


def _hostile_operation(path: Path, value: Any) -> None:
    params = _params_of(path, 1)
    params["operation"]["transform"] = value
    _set_params(path, 1, json.dumps(params))


def _replays_refuse(path: Path, match: str) -> None:
    h = dj.open_history(path)
    with pytest.raises(ParamError, match=match):
        replay_recipe(h, _base(), progress=False)
    ds = dj.Dataset(_base(), label="y", name="h", history=path)  # resumes the same file
    with pytest.raises(ParamError, match=match):
        ds.history.replay_recipe(_base(), progress=False)


def test_json_nested_past_the_parser_is_a_history_error(history: Path) -> None:
    # past Python's recursion limit json.loads itself gives up: the file cannot be read
    _set_params(history, 1, "[" * 100_000 + "]" * 100_000)
    with pytest.raises(dj.HistoryError, match="nested too deeply"):
        replay_recipe(dj.open_history(history), _base(), progress=False)
    with pytest.raises(dj.HistoryError, match="nested too deeply"):
        dj.Dataset(_base(), label="y", name="h", history=history)


@pytest.mark.parametrize("name", [n for n in IDS if n not in ("very-deep",)])
def test_recipe_replay_of_an_edited_history_refuses(
    name: str, history: Path, sentinel: Path
) -> None:
    _hostile_operation(history, _payload(name, sentinel))
    _replays_refuse(history, r"recorded change v1 \(augment\)")
    assert not sentinel.exists()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"operation": {"transform": ' + "[" * 500 + "]" * 500 + "}}", r"v1 \(augment\).*deeper"),
        ("[1, 2]", r"v1 \('augment'\): params must be a JSON object"),
        ('"operation"', r"v1 \('augment'\): params must be a JSON object"),
        ('{"operation": "jitter"}', r"v1 \(augment\).*JSON object"),
        ('{"operation": [["transform", "jitter"]]}', r"v1 \(augment\).*JSON object"),
        (
            '{"operation": {"transform": "jitter", "command": "touch x"}}',
            r"v1 \(augment\).*no parameter",
        ),
        (
            '{"operation": {"transform": "jitter"}, "options": {"ids": {"__callable__": "os.system"}}}',
            r"v1 \(augment\)",
        ),
    ],
    ids=["deep-operation", "list", "string", "op-string", "op-pairs", "op-unknown", "options"],
)
def test_recipe_replay_refuses_malformed_params_text(history: Path, text: str, match: str) -> None:
    _set_params(history, 1, text)
    _replays_refuse(history, match)


def test_a_decisions_params_are_carried_as_data_never_run(history: Path, sentinel: Path) -> None:
    # a person's relabel is carried over by sample id; its params are copied, not rebuilt
    hostile = {
        "reason": {"__callable__": "os.system"},
        "x": {"__estimator__": "os.system", "params": {"command": f"touch {sentinel}"}},
    }
    _set_params(history, 2, json.dumps(hostile))
    result = replay_recipe(dj.open_history(history), _base(), progress=False)
    assert 2 in result.applied.index
    assert not sentinel.exists()


# ---------------------------------------------------------------------------- the CLI
def _cli(history: Path, *extra: str) -> tuple[int, Path]:
    out = history.parent / "out.csv"
    args = ["replay", str(history), "--data", str(history.parent / "base.csv"), "--out", str(out)]
    return cli_main([*args, *extra]), out


@pytest.mark.parametrize("name", [n for n in IDS if n not in ("very-deep", "huge")])
def test_cli_recipe_refuses_and_writes_nothing(
    name: str, history: Path, sentinel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _hostile_operation(history, _payload(name, sentinel))
    code, out = _cli(history, "--recipe", "--quiet")
    err = capsys.readouterr().err
    assert code != 0 and not out.exists()
    assert err.startswith("dcai: error: recorded change v1 (augment)") and err.count("\n") == 1, err
    assert not sentinel.exists()
    # exact replay applies the recorded deltas only: it never reads the params
    code, out = _cli(history)
    assert code == 0 and out.exists()
    assert not sentinel.exists()


SUBPROCESS = ["walk-dataset-os-system", "function-transformer", "numpy-load"]


@pytest.mark.parametrize("name", SUBPROCESS)
def test_dcai_replay_recipe_in_a_subprocess(name: str, history: Path, sentinel: Path) -> None:
    _hostile_operation(history, _payload(name, sentinel))
    out = history.parent / "out.csv"
    run = subprocess.run(
        [sys.executable, "-m", "dcai_jupyter._cli", "replay", str(history), "--recipe", "--quiet",
         "--data", str(history.parent / "base.csv"), "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode != 0
    assert run.stderr.startswith("dcai: error: recorded change v1 (augment)"), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert not out.exists() and not sentinel.exists()


def test_cli_refuses_params_nested_past_the_parser(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_params(history, 1, "[" * 100_000 + "]" * 100_000)
    code, out = _cli(history, "--recipe", "--quiet")
    assert code != 0 and not out.exists()
    assert "nested too deeply" in capsys.readouterr().err


# ---------------------------------------------------------------------------- what still works
class _TrustedHere(ClassifierMixin, BaseEstimator):
    """An estimator class in a module the user trusts."""

    def __init__(self, C: float = 1.0) -> None:
        self.C = C

    def fit(self, X: Any, y: Any) -> _TrustedHere:
        return self


def touch_sentinel(command: str) -> None:  # pragma: no cover - must never run
    Path(command).touch()


def test_allowed_estimators_round_trip() -> None:
    from imblearn.over_sampling import SMOTE
    from sklearn.feature_selection import SelectKBest
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    for est in [
        LogisticRegression(C=2.0),
        make_pipeline(StandardScaler(), SelectKBest(k=2), LogisticRegression(max_iter=50)),
        SMOTE(k_neighbors=3),
    ]:
        again = from_json(json.loads(json.dumps(to_json(est))))
        assert type(again) is type(est) and to_json(again) == to_json(est)


def test_trust_module_allows_estimator_classes_only(
    monkeypatch: pytest.MonkeyPatch, sentinel: Path
) -> None:
    monkeypatch.setattr(_params, "TRUSTED_MODULES", set(_params.TRUSTED_MODULES))
    recorded = to_json(_TrustedHere(C=3.0))
    with pytest.raises(ParamError, match="not from a trusted module"):
        from_json(recorded)
    dj.ops.trust_module(__name__)
    assert from_json(recorded).C == 3.0
    evil = {"__estimator__": f"{__name__}.touch_sentinel", "params": {"command": str(sentinel)}}
    with pytest.raises(ParamError, match="not a scikit-learn estimator class"):
        from_json(evil)
    with pytest.raises(ParamError, match="not a registered function"):
        from_json({"__callable__": f"{__name__}.touch_sentinel"})
    with pytest.raises(ParamError, match="dotted module name"):
        dj.ops.trust_module("os.__dict__")
    assert not sentinel.exists()


def test_functions_are_recorded_by_registered_name_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from dcai_jupyter.ops._transforms import jitter

    monkeypatch.setattr(_params, "_CALLABLES", dict(_params._CALLABLES))
    assert "register_transform" in dj.__all__ and dj.register_transform is dj.ops.register_transform
    # built-ins under a stable name; older histories' qualified names still resolve
    assert to_json(jitter) == {"__callable__": "jitter"}
    assert from_json({"__callable__": "dcai_jupyter.ops._transforms.jitter"}) is jitter

    def local(rows, rng):
        return rows

    with pytest.raises(ParamError, match=r"register_transform\(fn"):
        to_json(touch_sentinel)
    with pytest.raises(ParamError, match="lambda or a local function"):
        to_json(local)
    with pytest.raises(ParamError, match="give it a name"):
        dj.register_transform(lambda rows, rng: rows)
    dj.register_transform(local, name="my_local")
    assert to_json(local) == {"__callable__": "my_local"}
    assert from_json({"__callable__": "my_local"}) is local
    with pytest.raises(ParamError, match="taken"):
        dj.register_transform(touch_sentinel, name="jitter")
    assert dj.register_transform(touch_sentinel) is touch_sentinel
    assert to_json(touch_sentinel) == {"__callable__": f"{__name__}.touch_sentinel"}
