"""SampleGrid toolbar counts (samples per label, flagged, resolved) and one number format per
numeric column: what the kernel sends with pages and relabel patches.

The browser is replaced by calling the widget's message handler; the Dataset is the real one.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj
from dcai_jupyter.widgets import SampleGrid, _counts
from dcai_jupyter.widgets._counts import MAX_LABEL_COUNTS, label_counts, number_format

CLASSES = ["cat", "dog", "bird"]


def _page(grid: SampleGrid, **kw: Any) -> dict[str, Any]:
    answer = grid.handle_message({"type": "page", "request_id": 1, "offset": 0, "limit": 20, **kw})
    assert answer["type"] == "page", answer
    return answer


def _truth(ds: Any) -> dict[Any, int]:
    counts = pd.Series(np.asarray(ds.column(ds.label), dtype=object)).value_counts(dropna=True)
    return {k: int(v) for k, v in counts.items()}


def _shown(answer: dict[str, Any]) -> dict[Any, int]:
    return {v: n for v, n in answer["labels"]["values"] if n}


@pytest.fixture
def ds() -> Any:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "n": np.arange(300, dtype=np.int64) * 1000,
            "x": np.round(rng.normal(size=300), 2),
            "label": rng.choice(CLASSES, 300),
        }
    )
    return dj.Dataset(df, label="label", classes=[*CLASSES, "fish"], history=":memory:")


def test_pages_count_samples_per_label_in_class_order(ds: Any) -> None:
    answer = _page(ds_grid := SampleGrid(ds))
    labels = answer["labels"]
    assert [v for v, _ in labels["values"]] == [*CLASSES, "fish"]  # the dataset's classes
    assert dict(map(tuple, labels["values"]))["fish"] == 0  # a class without samples: 0
    assert _shown(answer) == _truth(ds)
    assert labels["version"] == answer["version"] == 0
    assert labels["other_classes"] == labels["other_rows"] == 0
    assert "counts" not in answer  # no findings: no flagged count
    ds_grid.close()


def test_relabels_are_counted_from_their_delta_without_a_recount(
    ds: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = SampleGrid(ds)
    _page(grid)  # counted once here
    recounts: list[int] = []
    real = _counts._recount
    monkeypatch.setattr(_counts, "_recount", lambda d, t: (recounts.append(1), real(d, t)))
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(grid, "send", lambda content, buffers=None: sent.append(content))
    rng = np.random.default_rng(1)
    for _ in range(20):
        ids = rng.choice(np.asarray(ds.ids), size=5, replace=False)
        ds.relabel(ids, rng.choice([*CLASSES, "fish"], 5))
        patch = sent[-1]
        assert patch["type"] == "patch" and patch["labels"]["version"] == ds.version
        assert {v: n for v, n in patch["labels"]["values"] if n} == _truth(ds)
    assert recounts == []  # 20 relabels: no O(n) recount
    assert _shown(_page(grid)) == _truth(ds)
    assert recounts == []


def test_other_changes_are_recounted_when_next_asked(ds: Any) -> None:
    grid = SampleGrid(ds)
    _page(grid)
    ds.remove(np.asarray(ds.ids)[:50])
    assert _shown(_page(grid)) == _truth(ds)
    ds.relabel(np.asarray(ds.ids)[:10], ["fish"] * 10)
    ds.undo()  # not a plain relabel: recounted
    assert _shown(_page(grid)) == _truth(ds)
    assert dict(map(tuple, _page(grid)["labels"]["values"]))["fish"] == 0
    # a relabel in another view of the same dataset is counted in this one too
    other = SampleGrid(ds)
    other.handle_message({"type": "relabel", "request_id": 2, "ids": [60, 61], "label": "fish"})
    assert dict(map(tuple, _page(grid)["labels"]["values"]))["fish"] == 2


def test_the_pool_is_not_counted_as_a_label() -> None:
    df = pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.4], "label": ["a", "b", None, None]})
    ds = dj.Dataset(df, label="label")
    answer = _page(SampleGrid(ds))
    assert answer["labels"]["values"] == [["a", 1], ["b", 1]]
    assert answer["pool"] == {"labeled": 2, "unlabeled": 2}


def test_many_labels_list_the_largest_and_sum_the_rest() -> None:
    n_classes = MAX_LABEL_COUNTS + 30
    labels = np.repeat(np.arange(n_classes), np.arange(n_classes) % 7 + 1)
    ds = dj.Dataset(pd.DataFrame({"label": labels}), label="label", history=":memory:")
    counts = label_counts(ds)
    assert len(counts["values"]) == MAX_LABEL_COUNTS
    assert counts["other_classes"] == 30
    assert sum(n for _, n in counts["values"]) + counts["other_rows"] == len(ds)
    listed = min(n for _, n in counts["values"])
    assert counts["other_rows"] <= 30 * listed  # the smallest were summed, not the largest


def test_flagged_and_resolved_counts_follow_bulk_and_single_edits(ds: Any) -> None:
    flag = np.zeros(len(ds), dtype=bool)
    flag[:12] = True
    frame = pd.DataFrame(
        {
            "score": np.linspace(1, 0, len(ds)),
            "is_issue": flag,
            "suggested_label": ["dog"] * len(ds),
        },
        index=pd.Index(ds.ids, name="sample_id"),
    )
    found = dj.Findings(
        frame,
        op="label_issues",
        roles={"score": "score", "flag": "is_issue", "suggestion": "suggested_label"},
        action="relabel",
    )
    grid = SampleGrid(ds, findings=found)
    assert _page(grid)["counts"] == {"flagged": 12, "resolved": 0}
    ds.remove([0])
    assert _page(grid)["counts"] == {"flagged": 12, "resolved": 1}


# ----------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.arange(5, dtype=np.int64), {"decimals": 0, "group": False}),
        (np.arange(5, dtype=np.int64) * 10_000, {"decimals": 0, "group": True}),
        (np.array([1.0, 2.0, np.nan, 4.0]), {"decimals": 0, "group": False}),
        (np.array([0.5, 1.25, 3.0]), {"decimals": 2, "group": False}),
        (np.array([0.1, 0.2, 0.1 + 0.2]), {"decimals": 1, "group": False}),
        (np.array([1e-7, 3e-8, 2e-9]), {"exp": 3}),
        (np.array([np.nan, np.inf]), {"decimals": 0, "group": False}),
        (np.array([True, False]), {"decimals": 0, "group": False}),
    ],
)
def test_number_format_is_chosen_from_the_values(values: np.ndarray, expected: dict) -> None:
    assert number_format(values) == expected


def test_full_precision_floats_get_four_significant_digits_of_a_typical_value() -> None:
    rng = np.random.default_rng(0)
    assert number_format(rng.normal(size=1000)) == {"decimals": 4, "group": False}
    assert number_format(rng.normal(size=1000) * 1000 + 50_000) == {"decimals": 0, "group": True}
    assert number_format(rng.uniform(size=200_000) / 100) == {"decimals": 6, "group": False}


def test_pages_carry_one_format_per_numeric_column(ds: Any) -> None:
    grid = SampleGrid(ds)
    first = _page(grid)
    assert first["formats"] == {
        "n": {"decimals": 0, "group": True},
        "x": {"decimals": 2, "group": False},
    }
    later = _page(grid, offset=200)
    assert later["formats"] == first["formats"]  # the same format on every page
    ds.update(ds.ids[:1], "x", [0.125])  # a value with more decimals: the format follows
    assert _page(grid)["formats"]["x"] == {"decimals": 3, "group": False}
    grid.hidden_columns = ["x"]
    assert "x" not in _page(grid)["formats"]  # hidden: not computed


def test_a_large_dataset_is_counted_in_the_background(
    ds: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past SYNC_ROWS rows, a page is not held up by counting: it comes without the counts,
    which follow in a ``counts`` message once a background thread has counted them."""
    monkeypatch.setattr(_counts, "SYNC_ROWS", 10)
    monkeypatch.setattr("dcai_jupyter.widgets._grid.SYNC_ROWS", 10)
    grid = SampleGrid(ds)
    sent: list[dict[str, Any]] = []
    done = threading.Event()

    def send(content: dict[str, Any], buffers: Any = None) -> None:
        sent.append(content)
        if content.get("type") == "counts":
            done.set()

    monkeypatch.setattr(grid, "send", send)
    first = _page(grid)
    assert "labels" not in first
    assert done.wait(30), sent
    (msg,) = [m for m in sent if m["type"] == "counts"]
    assert {v: n for v, n in msg["labels"]["values"] if n} == _truth(ds)
    assert msg["labels"]["version"] == ds.version
    # counted now: pages and relabel patches carry them again (a relabel: its delta)
    assert _shown(_page(grid)) == _truth(ds)
    ds.relabel([0], ["fish"])
    assert sent[-1]["type"] == "patch" and sent[-1]["labels"]["values"][-1] == ["fish", 1]
