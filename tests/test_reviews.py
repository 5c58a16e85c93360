"""Review state in core: "kept" and "reviewed" (and their undoing) are events in the history,
keyed by the findings' own identity (op, params digest, version), read back after a restart,
and in effect only while the data derives from the state they were made on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from _findings import digit_findings

import dcai_jupyter as dj
from dcai_jupyter.core import open_history


def _data(history: Any = ":memory:") -> tuple[dj.Dataset, dj.Findings]:
    return digit_findings(30, 10, history=history, name="reviews", version=0)


def test_findings_key_is_op_params_digest_and_version() -> None:
    _, f = _data()
    assert f.key.op == "label_issues" and f.key.version == 0 and len(f.key.params) == 12
    assert f.flagged.key == f.top(3).key == f.key  # a subset: the same findings
    other = dj.Findings(f.frame, op=f.op, roles=f.roles, params={"threshold": 0.5}, version=0)
    assert other.key != f.key and other.key.params != f.key.params
    assert dj.Findings(f.frame, op=f.op, roles=f.roles, version=1).key != f.key
    assert str(f.key).startswith("label_issues@v0#")


def test_record_and_read_review_state(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    ds, f = _data(path)
    assert ds.record_review(f, [0, 1, 2], "kept") == 3
    assert ds.record_review(f, [1, 2], "kept") == 0  # already so: nothing recorded
    assert ds.record_review(f, [2, 3], "reviewed", reason="looked at them") == 2
    ds.relabel([9], [0])
    assert ds.record_review(f, [1], "kept", undo=True) == 1
    assert ds.version == 1  # no data changed by a review
    events = ds.history.events
    assert events["op"].tolist() == ["mark_kept", "mark_reviewed", "unmark_kept"]
    assert events.iloc[0]["params"] == {
        "findings": "label_issues",
        "findings_params": f.key.params,
        "findings_version": 0,
        "ids": [0, 1, 2],
    }
    assert events["version"].tolist() == [0, 0, 1]
    r = ds.reviews(f)
    assert r.index.tolist() == [0, 2, 3]
    assert r["state"].tolist() == ["kept", "kept", "reviewed"]  # kept wins over reviewed
    assert r["kept"].tolist() == [True, True, False]
    assert r["reviewed"].tolist() == [False, True, True]
    assert r["version"].tolist() == [0, 0, 0] and set(r["source"]) == {"api"}
    assert (r["findings"] == str(f.key)).all()
    assert ds.review_ids(f, "kept") == {0, 2} and ds.review_ids(f.flagged) == {2, 3}
    # findings of other params share nothing
    other = dj.Findings(f.frame, op=f.op, roles=f.roles, params={"x": 1}, version=0)
    assert ds.reviews(other).empty and ds.review_ids(other, "kept") == frozenset()
    # every findings reviewed, and the raw events
    assert len(ds.reviews()) == 3
    log = ds.history.review_events()
    assert log["op"].tolist() == ["mark_kept", "mark_reviewed", "unmark_kept"]
    assert log["in_effect"].all() and log["ids"].tolist() == [[0, 1, 2], [2, 3], [1]]
    ds.history.close()

    # a restart: the Dataset re-created on its file, findings made again the same way
    ds2, f2 = _data(path)
    assert f2.key == f.key
    pd.testing.assert_frame_equal(ds2.reviews(f2), r)
    # and any process reading the file
    h = open_history(path)
    pd.testing.assert_frame_equal(h.reviews(f2.key), r)
    assert h.review_ids(f2, "kept", at=0) == {0, 1, 2}  # the unkeep was made at v1
    h.close()


def test_revert_undo_redo_move_the_review_state_with_the_data() -> None:
    """A review holds for the state of the data it was made on and the states made from
    it: reverting to v drops what was decided after v; undoing the revert brings it back."""
    ds, f = _data()
    ds.record_review(f, [0], "kept")  # at v0
    ds.relabel([5], [0])  # v1
    ds.record_review(f, [1], "kept")  # at v1
    ds.record_review(f, [2], "reviewed")  # at v1
    ds.relabel([6], [0])  # v2
    ds.record_review(f, [0], "kept", undo=True)  # at v2
    assert ds.review_ids(f, "kept") == {1} and ds.review_ids(f) == {2}
    ds.revert_to(0)  # v3: the data as at v0
    assert ds.review_ids(f, "kept") == {0} and ds.review_ids(f) == frozenset()
    assert not ds.in_effect(1) and ds.in_effect(0)
    ds.undo()  # v4: undoes the revert
    assert ds.review_ids(f, "kept") == {1} and ds.review_ids(f) == {2}
    ds.undo()  # v5: undoes the relabel of v2: the unkeep made at v2 is gone too
    assert ds.review_ids(f, "kept") == {0, 1} and ds.in_effect(1) and not ds.in_effect(2)
    ds.redo()  # v6: the relabel again: so is the unkeep
    assert ds.review_ids(f, "kept") == {1}
    ds.revert_to(1)  # v7: back to v1: what was decided at v1 holds
    assert ds.review_ids(f, "kept") == {0, 1} and ds.review_ids(f) == {2}
    ds.record_review(f, [3], "reviewed")  # at v7, a state made from v1
    ds.relabel([7], [0])  # v8
    assert ds.review_ids(f) == {2, 3}
    log = ds.history.review_events()
    assert log["in_effect"].tolist() == [True, True, True, False, True]
    # as of an older version
    assert ds.history.review_ids(f, "kept", at=2) == {1}
    assert ds.history.review_ids(f, "kept", at=3) == {0}


def test_review_observers_hear_every_recorded_review() -> None:
    ds, f = _data()
    heard: list[dict[str, Any]] = []
    ds.observe_reviews(lambda d, note: heard.append(note))
    ds.record_review(f, [0, 1], "kept")
    ds.record_review(f, [0, 1], "kept")  # nothing changes: nothing heard
    ds.record_review(f, [1], "kept", undo=True)
    assert [(n["op"], n["ids"]) for n in heard] == [("mark_kept", [0, 1]), ("unmark_kept", [1])]
    assert heard[0]["findings"] == f.key and heard[0]["version"] == 0


def test_events_recorded_before_the_params_digest_still_count(tmp_path: Path) -> None:
    """History files whose mark_reviewed events name the findings by op and version only
    (before the key had a params digest) keep their review state."""
    ds, f = _data(tmp_path / "old.sqlite")
    ds.history.record_event(
        "mark_reviewed", {"findings": "label_issues", "findings_version": 0, "ids": [4, 5]}
    )
    assert ds.review_ids(f) == {4, 5}
    assert ds.reviews()["findings"].tolist() == ["label_issues@v0#*"] * 2
    assert json.loads(ds.reviews(f).to_json(date_format="iso"))["state"] == {
        "4": "reviewed",
        "5": "reviewed",
    }
