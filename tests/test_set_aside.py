"""``Dataset(..., resume=False)`` sets the old history aside and never loses one.

Issue 17, item 4: the set-aside name had one-second resolution and ``os.replace`` overwrote
an earlier set-aside, so two resets within a second lost a history. Every set-aside file
must still hold its changes (read back with ``dj.open_history``).
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import dcai_jupyter as dj
from dcai_jupyter.core import _aside

FROZEN_NS = 1_765_000_000_123_456_789  # one instant: every reset at the same nanosecond


@pytest.fixture
def df() -> pd.DataFrame:
    return pd.DataFrame({"x": [float(i) for i in range(12)], "label": ["a", "b", "c"] * 4})


def _asides(name: str) -> list[Path]:
    return sorted(p for p in Path(".dcai").glob(f"{name}.*.sqlite"))


def _record(ds: dj.Dataset, k: int) -> list[tuple[int, str]]:
    """Record ``k`` relabels (one sample each); returns (sample id, new label) per change."""
    done = []
    for i in range(k):
        sid = int(ds.ids[i])
        new = "c" if ds.df.at[sid, "label"] != "c" else "a"
        ds.relabel([sid], [new])
        done.append((sid, new))
    return done


def _recorded(path: Path) -> list[tuple[int, str]]:
    h = dj.open_history(path)
    try:
        return [(int(d[0]["i"][0]), d[0]["n"][0]) for d in h.store.deltas(1, h.head)]
    finally:
        h.close()


@pytest.mark.parametrize("frozen", [True, False], ids=["same-ns", "real-clock"])
@pytest.mark.parametrize("resets", [2, 3])
def test_resets_in_the_same_second_keep_every_history(df, monkeypatch, capsys, resets, frozen):
    if frozen:
        monkeypatch.setattr(_aside.time, "time_ns", lambda: FROZEN_NS)
    ds = dj.Dataset(df, label="label", name="r")
    expected = [_record(ds, 2)]
    for n in range(resets):
        new = dj.Dataset(df, label="label", name="r", resume=False)
        assert new.version == 0 and ds.superseded_by is new
        ds = new
        if n < resets - 1:  # every history set aside has changes, a different count each
            expected.append(_record(ds, 3 + n))
    asides = _asides("r")
    assert len(asides) == resets, asides
    notices = re.findall(r"kept aside as (\S+\.sqlite)", capsys.readouterr().out)
    assert sorted(Path(p).name for p in notices) == [p.name for p in asides]
    # each set-aside file holds the changes of the history it was: none overwritten
    recorded = [_recorded(Path(p)) for p in notices]  # the notices come in reset order
    assert recorded == expected and all(recorded)
    if frozen:  # one second, one nanosecond: the counter tells them apart
        assert len({p.name.rsplit("-", 1)[0] for p in asides}) == 1


def test_set_aside_never_replaces_an_existing_file(df, monkeypatch):
    monkeypatch.setattr(_aside.time, "time_ns", lambda: FROZEN_NS)
    monkeypatch.setattr(_aside, "_counter", itertools.count(1))
    first = _aside.aside_name(Path(".dcai/t.sqlite"))
    monkeypatch.setattr(_aside, "_counter", itertools.count(1))  # the same name comes next
    ds = dj.Dataset(df, label="label", name="t")
    changes = _record(ds, 2)
    first.write_bytes(b"precious: not ours to replace")
    dj.Dataset(df, label="label", name="t", resume=False)
    assert first.read_bytes() == b"precious: not ours to replace"
    others = [p for p in _asides("t") if p != first]
    assert len(others) == 1 and _recorded(others[0]) == changes


def test_set_aside_moves_the_write_ahead_log(df, tmp_path):
    """A kernel killed after recording leaves committed changes in ``-wal`` only: they go
    aside with the file, and the new history does not read them as its own."""
    df.to_pickle(tmp_path / "df.pkl")
    killed = (
        "import os, sys, pandas as pd, dcai_jupyter as dj\n"
        "ds = dj.Dataset(pd.read_pickle(sys.argv[1]), label='label', name='w')\n"
        "ds.relabel([0], ['c']); ds.relabel([1], ['a'])\n"
        "os._exit(0)  # killed: no checkpoint, the changes stay in the -wal\n"
    )
    subprocess.run([sys.executable, "-c", killed, str(tmp_path / "df.pkl")], check=True)
    wal = Path(".dcai/w.sqlite-wal")
    assert wal.exists() and wal.stat().st_size > 0
    new = dj.Dataset(df, label="label", name="w", resume=False)
    (aside,) = _asides("w")
    assert _recorded(aside) == [(0, "c"), (1, "a")]
    assert new.version == 0 and new.history.head == 0
    new.relabel([2], ["a"])
    assert dj.open_history(".dcai/w.sqlite").head == 1


def test_the_older_dataset_after_a_reset(df):
    old = dj.Dataset(df, label="label", name="o")
    _record(old, 2)
    new = dj.Dataset(df, label="label", name="o", resume=False)
    assert old.superseded_by is new and new.superseded_by is None
    with pytest.raises(dj.core.SupersededError, match=r"resume=False.*kept aside as"):
        old.relabel([5], ["a"])
    (aside,) = _asides("o")
    assert old.history.head == 2 and Path(old.history.path) == aside  # still readable
    assert old.version == 2 and new.version == 0
    assert new.relabel([5], ["a"]) == 1
