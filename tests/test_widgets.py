"""Kernel side of the widgets: the request/response handler, edits, refresh, wire size.

The browser is replaced by calling the widget's custom-message handler with dict messages and
collecting what it sends back (``send`` is the comm boundary); the Dataset is the real one.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _findings import digit_findings

import dcai_jupyter as dj
from dcai_jupyter.widgets import LabelEditor, SampleGrid, encode_png, image_data_url
from dcai_jupyter.widgets._ordering import argsort_nulls_last, grouped_order, window_order
from dcai_jupyter.widgets._protocol import MAX_LIMIT


def _pil() -> Any:
    """PIL.Image, or skip the test that needs it (only those: the rest need no Pillow)."""
    return pytest.importorskip("PIL.Image")


XSS = "<img src=x onerror=alert(1)>"
CLASSES = ["cat", "dog", "bird"]


# ----------------------------------------------------------------------------- fixtures


def make_df(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[::7] = np.nan
    return pd.DataFrame(
        {
            "n": np.arange(n, dtype=np.int64) * 7 % 97,
            "x": x,
            "text": [XSS if i % 5 == 0 else f"sample number {i} of the set" for i in range(n)],
            "label": rng.choice(CLASSES, n),
        }
    )


LABEL_ROLES = {"score": "score", "flag": "is_issue", "suggestion": "suggested_label"}


def make_issues(ds: Any, n_flagged: int, seed: int = 1) -> dj.Findings:
    """Label-issue findings shaped as ``ds.find_label_issues()`` makes them."""
    rng = np.random.default_rng(seed)
    quality = (rng.permutation(len(ds)) + 0.5) / len(ds)
    given = ds.column("label")
    flagged = quality < n_flagged / len(ds)
    nxt = {c: CLASSES[(i + 1) % len(CLASSES)] for i, c in enumerate(CLASSES)}
    frame = pd.DataFrame(
        {
            "given_label": given,
            "suggested_label": [nxt[g] if f else g for g, f in zip(given, flagged, strict=True)],
            "label_quality": quality,
            "score": 1 - quality,
            "is_issue": flagged,
        },
        index=pd.Index(ds.ids, name="sample_id"),
    )
    return dj.Findings(frame, op="label_issues", roles=LABEL_ROLES, action="relabel")


@pytest.fixture
def ds() -> Any:
    return dj.Dataset(make_df(100), label="label", classes=CLASSES, history=":memory:")


@pytest.fixture
def issues(ds: Any) -> dj.Findings:
    return make_issues(ds, 8)


Talk = Callable[..., dict[str, Any]]


@pytest.fixture
def talk(monkeypatch: pytest.MonkeyPatch) -> Talk:
    """``talk(widget, msg)`` -> the one answer the widget sends for ``msg``."""

    def _talk(widget: Any, msg: Any) -> dict[str, Any]:
        sent: list[Any] = []
        monkeypatch.setattr(widget, "send", lambda content, buffers=None: sent.append(content))
        widget._on_custom_msg(widget, msg, [])
        # a change also pushes, before the answer, a patch of the changed rows (grids) or the
        # ids it touched (editors) to the views
        pushed = ("patch", "changed")
        patches = [m for m in sent if isinstance(m, dict) and m.get("type") in pushed]
        for patch in patches:
            json.dumps(patch, allow_nan=False)
        sent = [m for m in sent if m not in patches]
        assert len(sent) == 1, sent
        answer = sent[0]
        json.dumps(answer, allow_nan=False)  # what goes on the wire is strict JSON
        return answer

    return _talk


def page(talk: Talk, grid: SampleGrid, **kw: Any) -> dict[str, Any]:
    answer = talk(grid, {"type": "page", "request_id": "r1", **kw})
    assert answer["type"] == "page", answer
    assert answer["request_id"] == "r1"
    return answer


# ----------------------------------------------------------------------------- paging


def test_first_page_in_row_order(ds: Any, talk: Talk) -> None:
    grid = SampleGrid(ds)
    p = page(talk, grid, offset=0, limit=10)
    assert p["ids"] == ds.ids[:10].tolist()
    assert p["total"] == p["row_count"] == 100
    assert p["version"] == ds.version
    assert p["columns"]["label"] == list(ds.column("label")[:10])
    assert p["columns"]["n"] == ds.column("n")[:10].tolist()
    assert p["columns"]["x"][0] is None  # NaN travels as null
    assert p["columns"]["text"][0] == XSS  # text is data: the browser renders it as text


def test_page_bounds(ds: Any, talk: Talk) -> None:
    grid = SampleGrid(ds)
    assert page(talk, grid, offset=95, limit=10)["ids"] == ds.ids[95:].tolist()
    empty = page(talk, grid, offset=100, limit=10)
    assert empty["ids"] == [] and empty["total"] == 100 and empty["columns"]["label"] == []
    assert page(talk, grid, offset=10**9, limit=10)["ids"] == []
    assert page(talk, grid, offset=0, limit=0)["ids"] == []
    assert page(talk, grid, offset=0, limit=10**6)["limit"] == MAX_LIMIT
    for bad in ({"offset": -1}, {"limit": -5}, {"offset": "0"}, {"limit": 2.5}, {"offset": True}):
        answer = talk(grid, {"type": "page", "request_id": "b", **bad})
        assert answer["type"] == "error" and answer["request_id"] == "b", bad
        assert "malformed" in answer["message"]


def test_sort_both_directions_nulls_last(ds: Any, talk: Talk) -> None:
    grid = SampleGrid(ds)
    x = pd.Series(ds.column("x"), index=ds.ids)
    n_valid = int(x.notna().sum())
    asc = page(talk, grid, offset=0, limit=100, sort={"column": "x", "ascending": True})
    assert asc["ids"][:n_valid] == x.dropna().sort_values(kind="stable").index.tolist()
    assert all(v is None for v in asc["columns"]["x"][n_valid:])
    desc = page(talk, grid, offset=0, limit=100, sort={"column": "x", "ascending": False})
    values = desc["columns"]["x"][:n_valid]
    assert values == sorted(values, reverse=True)
    assert all(v is None for v in desc["columns"]["x"][n_valid:])
    # a later page continues the same order
    second = page(talk, grid, offset=50, limit=50, sort={"column": "x", "ascending": False})
    assert second["ids"] == desc["ids"][50:]
    by_id = page(talk, grid, offset=0, limit=5, sort={"column": "sample_id", "ascending": False})
    assert by_id["ids"] == sorted(ds.ids.tolist(), reverse=True)[:5]
    labels = page(talk, grid, offset=0, limit=100, sort={"column": "label", "ascending": True})
    assert labels["columns"]["label"] == sorted(ds.column("label").tolist())


def test_sort_by_issue_columns(ds: Any, issues: dj.Findings, talk: Talk) -> None:
    grid = SampleGrid(ds, issues=issues)
    names = [c["name"] for c in grid.schema]
    assert {"suggested_label", "label_quality", "is_issue"} <= set(names)
    p = page(talk, grid, offset=0, limit=10, sort={"column": "label_quality", "ascending": True})
    assert p["ids"] == issues.sort_values("label_quality").index[:10].tolist()
    assert p["columns"]["label_quality"] == sorted(p["columns"]["label_quality"])
    assert p["columns"]["suggested_label"] == issues.loc[p["ids"], "suggested_label"].tolist()
    assert p["columns"]["is_issue"][:8] == [True] * 8
    p = page(talk, grid, offset=0, limit=8, sort={"column": "is_issue", "ascending": False})
    assert set(p["ids"]) == set(issues.index[issues.is_issue])


def test_sort_refusals(ds: Any, talk: Talk) -> None:
    grid = SampleGrid(ds)
    for sort in ({"column": "nope"}, {"column": "x", "ascending": "yes"}, "x", {"ascending": 1}):
        answer = talk(grid, {"type": "page", "request_id": 3, "sort": sort})
        assert answer["type"] == "error" and answer["request_id"] == 3, sort


def test_filters(ds: Any, issues: dj.Findings, talk: Talk) -> None:
    grid = SampleGrid(ds, issues=issues)
    labels = pd.Series(ds.column("label"), index=ds.ids)
    dog = page(talk, grid, offset=0, limit=100, filter={"label": "dog"})
    assert dog["total"] == int((labels == "dog").sum())
    assert dog["ids"] == labels.index[labels == "dog"].tolist()
    flagged = page(talk, grid, offset=0, limit=100, filter={"flagged": True})
    assert flagged["ids"] == issues.index[issues.is_issue].tolist()
    # the name older front ends send
    alias = page(talk, grid, offset=0, limit=100, filter={"issues_only": True})
    assert alias["ids"] == flagged["ids"]
    text = page(talk, grid, offset=0, limit=100, filter={"text": "NUMBER 1"})
    expect = [i for i, t in zip(ds.ids, ds.column("text"), strict=True) if "number 1" in t.lower()]
    assert text["ids"] == expect and text["total"] == len(expect)
    xss = page(talk, grid, offset=0, limit=100, filter={"text": "<img src"})
    assert xss["total"] == 20
    both = page(
        talk,
        grid,
        offset=0,
        limit=100,
        filter={"label": "cat", "issues_only": True},
        sort={"column": "label_quality", "ascending": False},
    )
    sel = issues[issues.is_issue & (issues.given_label == "cat")]
    assert both["ids"] == sel.sort_values("label_quality", ascending=False).index.tolist()
    assert page(talk, grid, offset=0, limit=10, filter={"label": ""})["total"] == 100
    for flt in ({"label": "horse"}, {"flagged": "yes"}, {"issues_only": 1}, {"text": 3}, ["dog"]):
        answer = talk(grid, {"type": "page", "request_id": "f", "filter": flt})
        assert answer["type"] == "error", flt
    plain = SampleGrid(ds)
    answer = talk(plain, {"type": "page", "request_id": "f", "filter": {"flagged": True}})
    assert answer["type"] == "error" and "no findings" in answer["message"]


def test_issues_of_removed_samples_are_skipped(ds: Any, issues: dj.Findings, talk: Talk) -> None:
    flagged = issues.index[issues.is_issue].tolist()
    ds.remove(flagged[:3])
    grid = SampleGrid(ds, issues=issues)
    p = page(talk, grid, offset=0, limit=100, filter={"flagged": True})
    assert p["ids"] == flagged[3:]


# ----------------------------------------------------------------------------- edits


def test_relabel_recorded_with_source_widget(ds: Any, talk: Talk) -> None:
    grid = SampleGrid(ds)
    sid = int(ds.ids[3])
    old = ds.take([sid])["label"].iloc[0]
    new = next(c for c in CLASSES if c != old)
    answer = talk(grid, {"type": "relabel", "request_id": "e1", "ids": [sid], "label": new})
    assert answer == {
        "type": "ok",
        "op": "relabel",
        "version": 1,
        "ids": [sid],
        "request_id": "e1",
    }
    assert ds.take([sid])["label"].iloc[0] == new
    last = ds.history.changes.iloc[-1]
    assert (last.op, last.source, last.widget, list(last.ids)) == (
        "relabel",
        "widget",
        "SampleGrid",
        [sid],
    )
    assert grid.version == ds.version == 1
    assert page(talk, grid, offset=3, limit=1)["columns"]["label"] == [new]


def test_relabel_many_and_remove(ds: Any, talk: Talk) -> None:
    grid = SampleGrid(ds)
    grid.selected_ids = [1, 2, 50]
    answer = talk(grid, {"type": "relabel", "request_id": 1, "ids": [1, 2, 50], "label": "bird"})
    assert answer["type"] == "ok"
    assert list(ds.take([1, 2, 50])["label"]) == ["bird"] * 3
    answer = talk(grid, {"type": "remove", "request_id": 2, "ids": [2, 50]})
    assert answer["type"] == "ok" and len(ds) == 98
    assert grid.row_count == 98 and grid.selected_ids == [1]
    changes = ds.history.changes
    assert changes.op.tolist() == ["relabel", "remove"]
    assert set(changes.source) == {"widget"} and set(changes.widget) == {"SampleGrid"}
    assert page(talk, grid, offset=0, limit=100)["total"] == 98


BAD_MESSAGES: list[Any] = [
    {"type": "relabel", "request_id": "b", "ids": [12345], "label": "dog"},  # unknown id
    {"type": "relabel", "request_id": "b", "ids": [1, 12345], "label": "dog"},  # one unknown
    {"type": "relabel", "request_id": "b", "ids": [1], "label": "horse"},  # unknown class
    {"type": "relabel", "request_id": "b", "ids": [1], "label": None},
    {"type": "relabel", "request_id": "b", "ids": [1], "label": ["dog"]},
    {"type": "relabel", "request_id": "b", "ids": [1]},  # no label
    {"type": "relabel", "request_id": "b", "ids": [], "label": "dog"},
    {"type": "relabel", "request_id": "b", "ids": "1", "label": "dog"},
    {"type": "relabel", "request_id": "b", "ids": [True], "label": "dog"},
    {"type": "relabel", "request_id": "b", "ids": [1.5], "label": "dog"},
    {"type": "relabel", "request_id": "b", "ids": [1, 1], "label": "dog"},
    {"type": "remove", "request_id": "b", "ids": [12345]},
    {"type": "remove", "request_id": "b", "ids": None},
    {"type": "drop_table", "request_id": "b"},
    {"request_id": "b"},
    {"type": None, "request_id": "b"},
    "relabel everything",
    ["page"],
    None,
]


@pytest.mark.parametrize("msg", BAD_MESSAGES, ids=range(len(BAD_MESSAGES)))
def test_bad_messages_answer_error_and_change_nothing(ds: Any, talk: Talk, msg: Any) -> None:
    grid = SampleGrid(ds)
    before = (ds.version, ds.fingerprint, len(ds.history.changes))
    answer = talk(grid, msg)
    assert answer["type"] == "error"
    assert answer["request_id"] == ("b" if isinstance(msg, dict) else None)
    assert isinstance(answer["message"], str) and answer["message"]
    assert grid.error == answer["message"]
    assert (ds.version, ds.fingerprint, len(ds.history.changes)) == before
    # the widget keeps working, and a good edit clears the error
    assert talk(grid, {"type": "relabel", "request_id": "ok", "ids": [1], "label": "cat"})
    assert grid.error == ""


def test_error_messages_are_readable(ds: Any, talk: Talk) -> None:
    grid = SampleGrid(ds)
    unknown = talk(grid, {"type": "relabel", "request_id": 1, "ids": [12345], "label": "dog"})
    assert "12345" in unknown["message"]
    cls = talk(grid, {"type": "relabel", "request_id": 1, "ids": [1], "label": "horse"})
    assert "horse" in cls["message"] and "cat" in cls["message"]
    kind = talk(grid, {"type": "nope", "request_id": 1})
    assert "unknown message type" in kind["message"]
    assert grid.error == kind["message"]
    page(talk, grid, offset=0, limit=1)  # any answered request clears it
    assert grid.error == ""


# ----------------------------------------------------------------------------- refresh


def test_refresh_on_change_from_a_cell(ds: Any, talk: Talk) -> None:
    grid = SampleGrid(ds)
    other = SampleGrid(ds, layout="gallery")
    p0 = page(talk, grid, offset=0, limit=5)
    assert p0["version"] == grid.version == 0
    ds.relabel([0], ["bird" if p0["columns"]["label"][0] != "bird" else "cat"])
    assert grid.version == other.version == ds.version == 1  # front ends refetch on this
    p1 = page(talk, grid, offset=0, limit=5)
    assert p1["version"] == 1 and p1["columns"]["label"][0] == ds.take([0])["label"].iloc[0]
    ds.remove([0, 1])
    assert grid.row_count == other.row_count == 98 and grid.version == 2
    assert page(talk, other, offset=0, limit=5)["ids"][0] == 2
    ds.undo()
    assert grid.version == 3 and grid.row_count == 100


def test_edit_in_one_view_refreshes_the_other(ds: Any, talk: Talk) -> None:
    a, b = SampleGrid(ds), SampleGrid(ds)
    talk(a, {"type": "relabel", "request_id": 1, "ids": [7], "label": "dog"})
    assert a.version == b.version == ds.version
    assert page(talk, b, offset=7, limit=1)["columns"]["label"] == ["dog"]


def test_change_from_another_thread(ds: Any, talk: Talk) -> None:
    grid = SampleGrid(ds)
    page(talk, grid, offset=0, limit=5, sort={"column": "x", "ascending": True})

    def edit() -> None:
        for i in range(20):
            ds.relabel([i], [CLASSES[(i + 1) % 3]])
            ds.relabel([i], [CLASSES[i % 3]])

    threads = [threading.Thread(target=edit) for _ in range(2)]
    seen: list[dict[str, Any]] = []
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):  # pages answered while the cell thread edits
        seen.append(page(talk, grid, offset=0, limit=20))
    for t in threads:
        t.join()
    seen.append(page(talk, grid, offset=0, limit=20))
    # every page shows the labels of exactly the version it claims to be read at
    then: dict[int, Any] = {}  # one checkout per version seen (pages repeat versions)
    for p in seen:
        v = p["version"]
        if v not in then:
            then[v] = ds.history.checkout(v)["label"]
        assert p["columns"]["label"] == then[v].loc[p["ids"]].tolist(), v
    assert len(then) > 1, "no page was read while the labels changed"
    assert grid.version == ds.version
    assert page(talk, grid, offset=0, limit=20)["columns"]["label"] == [
        CLASSES[i % 3] for i in range(20)
    ]


def test_close_stops_observing(ds: Any) -> None:
    grid = SampleGrid(ds)
    grid.close()
    ds.relabel([0], ["bird" if ds.take([0])["label"].iloc[0] != "bird" else "cat"])
    assert grid.version == 0


def test_sorted_order_survives_relabel_without_resort(ds: Any, talk: Talk) -> None:
    grid = SampleGrid(ds)
    q = {"offset": 0, "limit": 10, "sort": {"column": "x", "ascending": False}}
    before = page(talk, grid, **q)
    ds.relabel([before["ids"][0]], ["dog" if before["columns"]["label"][0] != "dog" else "cat"])
    source = grid._source
    assert source._kv("x", ds.version) == 0  # shares the order of x of version 0
    assert source._kv("label", ds.version) == ds.version
    after = page(talk, grid, **q)
    assert after["ids"] == before["ids"] and after["version"] == ds.version


# ----------------------------------------------------------------------------- wire size


def _first_display_bytes(grid: SampleGrid, talk: Talk) -> int:
    state = {k: v for k, v in grid.get_state().items() if k not in ("_esm", "_css")}
    first = page(talk, grid, offset=0, limit=grid.page_size)
    return len(json.dumps(state)) + len(json.dumps(first))


def test_construction_reads_no_rows() -> None:
    df = make_df(200_000)
    ds = dj.Dataset(df, label="label", classes=CLASSES, history=":memory:")
    grid = SampleGrid(ds)
    assert len(grid._source._cache) == 0  # no sort, mask or id copy until a page is asked for
    state = json.dumps({k: v for k, v in grid.get_state().items() if k not in ("_esm", "_css")})
    assert len(state) < 4000


def test_first_display_bounded_and_constant(talk: Talk) -> None:
    sizes = []
    for n in (1_000, 100_000):
        ds = dj.Dataset(make_df(n), label="label", classes=CLASSES, history=":memory:")
        sizes.append(_first_display_bytes(SampleGrid(ds), talk))
    assert max(sizes) <= 32 * 1024, sizes
    assert abs(sizes[1] - sizes[0]) < 100, sizes  # a few digits of row_count differ


def test_digits_first_display_bounded(talk: Talk) -> None:
    sklearn = pytest.importorskip("sklearn.datasets")
    digits = sklearn.load_digits()
    df = pd.DataFrame({"image": list(digits.images), "label": digits.target})
    ds = dj.Dataset(df, label="label", history=":memory:")
    grid = SampleGrid(ds, layout="gallery")
    assert grid.image_column == "image" and grid.mode == "gallery"
    assert _first_display_bytes(grid, talk) <= 32 * 1024
    p = page(talk, grid, offset=0, limit=3)
    url = p["columns"]["image"][0]
    assert url.startswith("data:image/png;base64,")
    img = _decode(url)
    assert img.size == (8, 8) and img.mode == "L"


# ----------------------------------------------------------------------------- images


def _decode(url: str) -> Any:
    import base64

    return _pil().open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def test_png_encoder_round_trips() -> None:
    rng = np.random.default_rng(0)
    for shape in ((5, 7), (4, 6, 3), (3, 3, 4), (2, 9, 2)):
        a = rng.integers(0, 256, size=shape, dtype=np.uint8)
        img = _pil().open(io.BytesIO(encode_png(a)))
        assert np.array_equal(np.asarray(img), a)
    with pytest.raises(ValueError):
        encode_png(np.zeros((3, 3, 5), dtype=np.uint8))


def test_image_cells_of_every_kind(tmp_path: Path) -> None:
    digit = np.arange(64, dtype=float).reshape(8, 8) / 4  # 0..15.75, scaled to 0..255
    img = _decode(image_data_url(digit) or "")
    assert np.asarray(img)[0, 0] == 0 and np.asarray(img)[7, 7] == 255
    big = np.zeros((256, 128, 3), dtype=np.uint8)
    assert max(_decode(image_data_url(big, 64) or "").size) <= 64
    chw = np.zeros((3, 10, 12))
    assert _decode(image_data_url(chw) or "").size == (12, 10)
    pil = _pil().new("RGB", (300, 200), (255, 0, 0))
    url = image_data_url(pil, 64) or ""
    assert url.startswith("data:image/jpeg") and max(_decode(url).size) == 64
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    assert max(_decode(image_data_url(buf.getvalue(), 32) or "").size) == 32
    path = tmp_path / "a.png"
    path.write_bytes(buf.getvalue())
    assert image_data_url(str(path)) is not None and image_data_url(path) is not None
    for bad in (None, "missing.png", "not an image", b"junk", np.zeros(5), np.array([None])):
        assert image_data_url(bad) is None


# ----------------------------------------------------------------------------- LabelEditor


def test_editor_queue_and_items(ds: Any, issues: dj.Findings, talk: Talk) -> None:
    ed = LabelEditor(ds, issues)
    order = issues[issues.is_issue].sort_values("label_quality").index.tolist()
    assert ed.queue.tolist() == order
    assert (ed.total, ed.position, ed.reviewed) == (8, 0, 0)
    item = talk(ed, {"type": "item", "request_id": "i", "index": 0})
    assert item["type"] == "item" and item["id"] == order[0] and item["present"]
    assert item["given"] == issues.at[order[0], "given_label"]
    assert item["suggested"] == issues.at[order[0], "suggested_label"]
    assert item["score"] == pytest.approx(issues.at[order[0], "score"])
    assert dict(item["finding"])["label_quality"] == pytest.approx(
        issues.at[order[0], "label_quality"]
    )
    assert item["group"] is None and item["keeper"] is None and item["flagged"] is True
    assert item["text"] is not None and [f[0] for f in item["fields"]] == ["n", "x"]
    done = talk(ed, {"type": "item", "request_id": "i", "index": 8})
    assert done["done"] is True
    everything = LabelEditor(ds)
    assert everything.queue.tolist() == ds.ids.tolist() and not everything.has_suggestions


def test_editor_decisions_recorded(ds: Any, issues: dj.Findings, talk: Talk) -> None:
    ed = LabelEditor(ds, issues)
    q = ed.queue.tolist()
    accept = talk(
        ed, {"type": "decide", "request_id": 1, "index": 0, "id": q[0], "action": "accept"}
    )
    assert accept["type"] == "ok" and accept["position"] == 1 and accept["changed"]
    assert ds.take([q[0]])["label"].iloc[0] == issues.at[q[0], "suggested_label"]
    pick = talk(
        ed, {"type": "decide", "request_id": 2, "index": 1, "action": "label", "label": "cat"}
    )
    assert pick["type"] == "ok" and ds.take([q[1]])["label"].iloc[0] == "cat"
    gone = talk(ed, {"type": "decide", "request_id": 3, "index": 2, "action": "remove"})
    assert gone["type"] == "ok" and q[2] not in ds.ids
    assert (ed.position, ed.reviewed) == (3, 3)
    changes = ds.history.changes
    assert set(changes.source) == {"widget"} and set(changes.widget) == {"LabelEditor"}
    assert changes.op.tolist()[-1] == "remove"
    removed = talk(ed, {"type": "item", "request_id": 4, "index": 2})
    assert removed["present"] is False and removed["decision"] == {
        "action": "remove",
        "label": None,
    }
    # undo walks back: the removal first
    undo = talk(ed, {"type": "undo", "request_id": 5})
    assert undo["type"] == "ok" and q[2] in ds.ids and (ed.position, ed.reviewed) == (2, 2)
    assert ds.history.changes.iloc[-1].source == "widget"
    moved = talk(ed, {"type": "move", "request_id": 6, "to": 99})
    assert moved["position"] == ed.position == 8


def test_editor_accepting_the_current_label_changes_nothing(
    ds: Any, issues: dj.Findings, talk: Talk
) -> None:
    ed = LabelEditor(ds, issues)
    sid = int(ed.queue[0])
    given = ds.take([sid])["label"].iloc[0]
    answer = talk(
        ed, {"type": "decide", "request_id": 1, "index": 0, "action": "label", "label": given}
    )
    assert answer["type"] == "ok" and not answer["changed"] and ds.version == 0
    assert ed.reviewed == 1
    assert talk(ed, {"type": "undo", "request_id": 2})["type"] == "ok" and ds.version == 0


def test_editor_bad_messages(ds: Any, issues: dj.Findings, talk: Talk) -> None:
    ed = LabelEditor(ds, issues)
    q = ed.queue.tolist()
    bad = [
        {"type": "decide", "index": 99, "action": "accept"},
        {"type": "decide", "index": -1, "action": "accept"},
        {"type": "decide", "index": 0, "id": q[1], "action": "accept"},  # not that entry
        {"type": "decide", "index": 0, "action": "explode"},
        {"type": "decide", "index": 0, "action": "label", "label": "horse"},
        {"type": "decide", "index": 0, "action": "label"},
        {"type": "decide", "index": "0", "action": "accept"},
        {"type": "item", "index": None},
        {"type": "move", "to": "next"},
        {"type": "undo"},  # nothing to undo yet
    ]
    for msg in bad:
        answer = talk(ed, {**msg, "request_id": "x"})
        assert answer["type"] == "error" and answer["request_id"] == "x", msg
    assert ds.version == 0 and (ed.position, ed.reviewed) == (0, 0)
    # no suggestion: accept is refused
    plain = LabelEditor(ds)
    answer = talk(plain, {"type": "decide", "request_id": 1, "index": 0, "action": "accept"})
    assert answer["type"] == "error" and "suggested" in answer["message"]


def test_editor_undo_refused_after_a_later_change(ds: Any, issues: dj.Findings, talk: Talk) -> None:
    ed = LabelEditor(ds, issues)
    talk(ed, {"type": "decide", "request_id": 1, "index": 0, "action": "accept"})
    other = int(ed.queue[5])
    current = ds.take([other])["label"].iloc[0]
    ds.relabel([other], [next(c for c in CLASSES if c != current)])  # a cell, afterwards
    before = ds.version
    assert before == 2
    answer = talk(ed, {"type": "undo", "request_id": 2})
    assert answer["type"] == "error" and "ds.undo()" in answer["message"]
    assert ds.version == before and ed.reviewed == 1


def test_editor_follows_changes(ds: Any, issues: dj.Findings, talk: Talk) -> None:
    ed = LabelEditor(ds, issues)
    sid = int(ed.queue[0])
    ds.relabel([sid], ["bird" if ds.take([sid])["label"].iloc[0] != "bird" else "cat"])
    assert ed.version == ds.version
    item = talk(ed, {"type": "item", "request_id": 1, "index": 0})
    assert item["given"] == ds.take([sid])["label"].iloc[0] and item["version"] == ds.version


# ----------------------------------------------------------------------------- display


def test_dataset_displays_as_a_grid(ds: Any) -> None:
    bundle = ds._repr_mimebundle_(include=None, exclude=None)
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    view = data["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"]
    assert "Dataset" in data["text/plain"] or "SampleGrid" in data["text/plain"]


def test_front_end_is_built() -> None:
    from dcai_jupyter.widgets._base import STATIC

    for name in ("grid.js", "editor.js", "widgets.css"):
        assert (STATIC / name).is_file(), f"{name} missing: run `npm run build` in js/"
    assert "innerHTML" not in (STATIC / "grid.js").read_text()
    assert "innerHTML" not in (STATIC / "editor.js").read_text()
    for widget in (SampleGrid, LabelEditor):
        assert "front end is not built" not in str(widget._esm)


# ----------------------------------------------------------------------------- partial sort


@pytest.mark.parametrize("kind", ["float-ties-nan", "int-ties", "float-unique", "all-nan"])
def test_window_order_is_a_slice_of_the_full_order(kind: str) -> None:
    rng = np.random.default_rng(3)
    if kind == "float-ties-nan":
        values = rng.integers(0, 5, 300).astype(float)
        values[rng.random(300) < 0.2] = np.nan
    elif kind == "int-ties":
        values = rng.integers(-3, 3, 300)
    elif kind == "all-nan":
        values = np.full(300, np.nan)
    else:
        values = rng.normal(size=300)
    asc, n_valid = argsort_nulls_last(values)
    desc = np.concatenate([asc[:n_valid][::-1], asc[n_valid:]])
    windows = [(0, 1), (0, 50), (7, 57), (100, 101), (n_valid - 10, n_valid + 10), (250, 400)]
    for start, stop in windows:
        start, stop = max(0, start), max(0, stop)
        for order, ascending in ((asc, True), (desc, False)):
            got = window_order(values, start, stop, ascending)
            assert got is not None and np.array_equal(got, order[start:stop]), (start, stop)
    assert window_order(np.array(["a", "b"], dtype=object), 0, 1, True) is None


def test_sorted_pages_agree_before_and_after_the_full_sort(ds: Any, talk: Talk) -> None:
    grid = SampleGrid(ds)
    key = pd.DataFrame({"n": ds.column("n"), "pos": np.arange(100)}, index=ds.ids)
    for ascending in (True, False):
        sort = {"column": "n", "ascending": ascending}  # n has many ties
        expect = key.sort_values(["n", "pos"], ascending=[ascending, ascending]).index.tolist()
        source = grid._source
        # forget any full order: pages come from partitions
        source._cache.discard(lambda k: k[0] in ("argsort", "order"))
        source._windows.clear()
        pages = [page(talk, grid, offset=o, limit=13, sort=sort) for o in range(0, 100, 13)]
        assert [i for p in pages for i in p["ids"]] == expect
        assert {p["total"] for p in pages} == {100}
        for thread in threading.enumerate():  # the background sort
            if thread.name == "dcai-grid-sort":
                thread.join()
        full = page(talk, grid, offset=0, limit=100, sort=sort)
        assert full["ids"] == expect


def test_ping_answers_with_the_dataset_version():
    df = pd.DataFrame({"x": [1.0, 2.0], "label": ["a", "b"]})
    ds = dj.Dataset(df, label="label")
    grid = dj.SampleGrid(ds)
    assert grid.handle_message({"type": "ping", "request_id": "p1"}) == {
        "type": "pong",
        "request_id": "p1",
        "version": 0,
    }
    ds.relabel([0], ["b"])
    assert grid.handle_message({"type": "ping", "request_id": "p2"})["version"] == 1


# ----------------------------------------------------------------------------- findings of any family

#: duplicate groups (sample ids, keeper first) of the hand-made duplicates findings
GROUPS = {7: [40, 10, 70], 3: [6, 5], 9: [20, 90, 33, 60]}
#: their scores: the keeper 0, the others how sure the match is
DUP_SCORES = {40: 0.0, 10: 0.6, 70: 0.95, 6: 0.0, 5: 0.7, 20: 0.0, 90: 0.8, 33: 0.3, 60: 0.81}
DUP_ROLES = {
    "score": "match",
    "flag": "drop",
    "group": "dup_of",
    "keeper": "keep_me",
    "reason": "why",
}


def make_duplicates() -> dj.Findings:
    """Remove-family findings with groups and keepers, named unlike any label-issue column."""
    rows = []
    for g, members in GROUPS.items():
        for k, sid in enumerate(members):
            rows.append(
                {
                    "sample_id": sid,
                    "match": DUP_SCORES[sid],
                    "drop": k > 0,
                    "dup_of": g,
                    "keep_me": k == 0,
                    "why": "keeper" if k == 0 else f"same as {members[0]}",
                    "distance": 1 - DUP_SCORES[sid],
                }
            )
    frame = pd.DataFrame(rows).set_index("sample_id")
    return dj.Findings(frame, op="duplicates", roles=DUP_ROLES, action="remove")


@pytest.fixture
def dups() -> dj.Findings:
    return make_duplicates()


def _runs(ids: list[int]) -> list[list[int]]:
    """``ids`` cut where the duplicate group changes."""
    group_of = {sid: g for g, members in GROUPS.items() for sid in members}
    out: list[list[int]] = []
    for sid in ids:
        if out and group_of.get(out[-1][-1], -1) == group_of.get(sid, -2):
            out[-1].append(sid)
        else:
            out.append([sid])
    return out


def test_a_plain_dataframe_is_refused_with_how_to_wrap_it(ds: Any, issues: dj.Findings) -> None:
    frame = issues.to_frame()
    for make in (
        lambda: SampleGrid(ds, findings=frame),
        lambda: SampleGrid(ds, issues=frame),
        lambda: LabelEditor(ds, frame),
    ):
        with pytest.raises(TypeError, match=r"dj\.Findings\(frame, op=.*roles="):
            make()
    with pytest.raises(TypeError, match="not both"):
        SampleGrid(ds, findings=issues, issues=issues)
    with pytest.raises(TypeError, match="got list"):
        LabelEditor(ds, [1, 2])
    # issues= is an alias of findings=
    assert SampleGrid(ds, issues=issues).findings is issues
    assert LabelEditor(ds, issues=issues).findings is issues


def test_schema_from_declared_roles(ds: Any, issues: dj.Findings, dups: dj.Findings) -> None:
    roles = {c["name"]: c.get("finding") for c in SampleGrid(ds, findings=issues).schema}
    assert roles["suggested_label"] == "suggestion" and roles["score"] == "score"
    assert roles["is_issue"] == "flag" and roles["label_quality"] == "extra"
    grid = SampleGrid(ds, findings=dups)
    by_name = {c["name"]: c for c in grid.schema}
    assert {n: by_name[n]["finding"] for n in DUP_ROLES.values()} == {
        v: k for k, v in DUP_ROLES.items()
    }
    assert by_name["keep_me"]["kind"] == by_name["drop"]["kind"] == "bool"
    assert by_name["distance"]["finding"] == "extra"
    assert (grid.action, grid.findings_op, grid.has_findings) == ("remove", "duplicates", True)
    # a findings column named like a dataset column is shown under another name
    clash = dj.Findings(
        pd.DataFrame({"s": [1.0], "f": [True], "text": ["found"]}, index=[3]),
        op="odd",
        roles={"score": "s", "flag": "f", "reason": "text"},
    )
    names = [c["name"] for c in SampleGrid(ds, findings=clash).schema]
    assert names.count("text") == 1 and "text (odd)" in names


def test_label_issue_findings_sort_filter_and_accept(
    ds: Any, issues: dj.Findings, talk: Talk
) -> None:
    grid = SampleGrid(ds, findings=issues)
    p = page(talk, grid, offset=0, limit=10, sort={"column": "score", "ascending": False})
    assert p["ids"] == issues.sorted().ids[:10].tolist()  # most suspicious first
    assert p["columns"]["score"] == sorted(p["columns"]["score"], reverse=True)
    flagged = issues.flagged.ids.tolist()
    shown = page(
        talk,
        grid,
        offset=0,
        limit=100,
        filter={"flagged": True},
        sort={"column": "score", "ascending": False},
    )
    assert shown["ids"] == flagged and shown["total"] == len(flagged) == 8
    # accept two flagged samples: one change setting each to its own suggestion
    ids = flagged[:2]
    answer = talk(grid, {"type": "accept", "request_id": "a", "ids": ids})
    assert answer["type"] == "ok" and answer["op"] == "relabel" and answer["changed"]
    assert ds.take(ids)["label"].tolist() == issues.loc[ids, "suggested_label"].tolist()
    last = ds.history.changes.iloc[-1]
    assert (last.op, last.source, last.widget, sorted(last.ids)) == (
        "relabel",
        "widget",
        "SampleGrid",
        sorted(ids),
    )
    again = talk(grid, {"type": "accept", "request_id": "b", "ids": ids})
    assert again["type"] == "ok" and not again["changed"] and ds.version == 1
    # not flagged, no finding at all: refused, nothing changes
    quiet = int(issues.index[~issues.is_issue][0])
    for bad in ([quiet], [12345]):
        answer = talk(grid, {"type": "accept", "request_id": "c", "ids": bad})
        assert answer["type"] == "error" and ds.version == 1, answer
    plain = talk(SampleGrid(ds), {"type": "accept", "request_id": "d", "ids": ids})
    assert plain["type"] == "error" and "no findings" in plain["message"]


def test_duplicate_groups_side_by_side(ds: Any, dups: dj.Findings, talk: Talk) -> None:
    grid = SampleGrid(ds, findings=dups)
    desc = page(talk, grid, offset=0, limit=100, sort={"column": "match", "ascending": False})
    assert desc["total"] == 100
    head = desc["ids"][:9]
    # groups adjacent, ranked by their most suspicious member, keeper first, then by score
    assert head == [40, 70, 10, 20, 60, 90, 33, 6, 5]
    assert _runs(head) == [[40, 70, 10], [20, 60, 90, 33], [6, 5]]
    assert desc["columns"]["keep_me"][:9] == [
        True,
        False,
        False,
        True,
        False,
        False,
        False,
        True,
        False,
    ]
    assert desc["ids"][9:] == [i for i in ds.ids.tolist() if i not in head]  # no finding: after
    asc = page(talk, grid, offset=0, limit=9, sort={"column": "match", "ascending": True})
    assert _runs(asc["ids"]) == [[6, 5], [20, 60, 90, 33], [40, 70, 10]]
    by_group = page(talk, grid, offset=0, limit=9, sort={"column": "dup_of", "ascending": True})
    assert _runs(by_group["ids"]) == [[6, 5], [40, 70, 10], [20, 60, 90, 33]]
    # flagged only: whole groups (the keeper beside its duplicates), still adjacent
    flagged = page(
        talk,
        grid,
        offset=0,
        limit=100,
        filter={"flagged": True},
        sort={"column": "match", "ascending": False},
    )
    assert flagged["ids"] == head and flagged["total"] == 9
    in_row_order = page(talk, grid, offset=0, limit=100, filter={"flagged": True})
    assert in_row_order["ids"] == sorted(head)
    # a later page continues the same grouped order
    tail = page(talk, grid, offset=4, limit=3, sort={"column": "match", "ascending": False})
    assert tail["ids"] == head[4:7]


def test_findings_open_by_score_most_suspicious_first(
    ds: Any, dups: dj.Findings, issues: dj.Findings
) -> None:
    # the front end restores this query before its first page: groups come whole, keeper
    # first, the most suspicious group first
    assert SampleGrid(ds, findings=dups).query == {
        "sort": {"column": "match", "ascending": False},
        "filter": {},
    }
    assert SampleGrid(ds, findings=issues).query["sort"] == {"column": "score", "ascending": False}
    assert SampleGrid(ds).query == {}  # a plain dataset: row order


def test_duplicates_page_says_which_columns_differ_from_the_keeper(talk: Talk) -> None:
    df = pd.DataFrame(
        {
            "x": [1.0, 1.0, 1.0, 2.0, 5.0, np.nan, np.nan],
            "note": ["a", "a", "a", "a", "b", None, None],
            "label": pd.array(["p", "p", "q", "p", "p", "p", "p"], dtype="str"),
        }
    )
    ds = dj.Dataset(df, label="label")
    frame = pd.DataFrame(
        {
            "score": [1.0, 1.0, 0.9, 0.5, 0.0, 0.8, 0.8],
            "flag": [False, True, True, True, False, False, True],
            "group": [0, 0, 0, 0, -1, 1, 1],
            "keeper": [True, False, False, False, False, True, False],
        },
        index=ds.ids,
    )
    frame.loc[4, "group"] = np.nan
    found = dj.Findings(
        frame, op="duplicates", action="remove",
        roles={"score": "score", "flag": "flag", "group": "group", "keeper": "keeper"},
    )  # fmt: skip
    grid = SampleGrid(ds, findings=found)
    p = page(talk, grid, offset=0, limit=10, sort=grid.query["sort"])
    differs = dict(zip(p["ids"], p["differs"], strict=True))
    assert differs[0] is None and differs[5] is None  # keepers
    assert differs[1] == []  # an exact copy
    assert differs[2] == ["label"]  # a copy with another label
    assert differs[3] == ["x"]
    assert differs[4] is None  # in no group
    assert differs[6] == []  # missing equals missing
    assert p["ids"][:4] == [0, 1, 2, 3]  # keeper first, then its copies by score
    # findings without groups say nothing about differences
    plain = dj.Findings(
        frame[["score", "flag"]], op="odd", roles={"score": "score", "flag": "flag"}
    )
    assert "differs" not in page(talk, SampleGrid(ds, findings=plain), offset=0, limit=5)


def test_duplicates_accept_removes_and_keeper_is_refused(
    ds: Any, dups: dj.Findings, talk: Talk
) -> None:
    grid = SampleGrid(ds, findings=dups)
    answer = talk(grid, {"type": "accept", "request_id": 1, "ids": [70, 10]})
    assert answer["type"] == "ok" and answer["op"] == "remove" and answer["changed"]
    assert 70 not in ds.ids and 10 not in ds.ids and len(ds) == 98
    last = ds.history.changes.iloc[-1]
    assert (last.op, last.source, last.widget) == ("remove", "widget", "SampleGrid")
    keeper = talk(grid, {"type": "accept", "request_id": 2, "ids": [40]})
    assert keeper["type"] == "error" and "not flagged" in keeper["message"] and 40 in ds.ids
    # the removed rows leave the grouped view; the keeper stays
    p = page(talk, grid, offset=0, limit=7, sort={"column": "match", "ascending": False})
    assert p["ids"] == [20, 60, 90, 33, 6, 5, 40]  # group 7 is its keeper alone now


def test_editor_reviews_duplicates(ds: Any, dups: dj.Findings, talk: Talk) -> None:
    ed = LabelEditor(ds, dups)
    # flagged only, groups adjacent, the group with the most suspicious member first
    assert ed.queue.tolist() == [70, 10, 60, 90, 33, 5]
    assert (ed.total, ed.action, ed.score_name) == (6, "remove", "match")
    item = talk(ed, {"type": "item", "request_id": 1, "index": 0})
    assert item["id"] == 70 and item["score"] == 0.95 and item["reason"] == "same as 40"
    assert item["suggested"] is None and item["keeper"] is False
    group = item["group"]
    assert group["id"] == 7 and group["size"] == 3
    assert [(p["id"], p["keeper"], p["present"]) for p in group["peers"]] == [
        (40, True, True),
        (10, False, True),
    ]
    assert group["peers"][0]["text"] == ds.take([40])["text"].iloc[0]
    assert dict(item["finding"]) == {"distance": pytest.approx(0.05)}
    # accept (Enter) = remove, recorded from the widget; undo puts it back
    answer = talk(ed, {"type": "decide", "request_id": 2, "index": 0, "id": 70, "action": "accept"})
    assert answer["type"] == "ok" and answer["op"] == "remove" and answer["changed"]
    assert 70 not in ds.ids
    last = ds.history.changes.iloc[-1]
    assert (last.op, last.source, last.widget) == ("remove", "widget", "LabelEditor")
    assert talk(ed, {"type": "item", "request_id": 3, "index": 0})["decision"]["action"] == "remove"
    keep = talk(ed, {"type": "decide", "request_id": 4, "index": 1, "action": "keep"})
    assert keep["type"] == "ok" and not keep["changed"] and 10 in ds.ids
    assert ed.decisions["action"].tolist() == ["remove", "keep"]
    talk(ed, {"type": "undo", "request_id": 5})
    talk(ed, {"type": "undo", "request_id": 6})
    assert 70 in ds.ids and ed.reviewed == 0
    # a review-only family: accepting is refused, nothing changes
    review = dj.Findings(
        pd.DataFrame({"s": [0.9], "f": [True]}, index=[3]),
        op="outliers",
        roles={"score": "s", "flag": "f"},
    )
    answer = talk(
        LabelEditor(ds, review), {"type": "decide", "request_id": 7, "index": 0, "action": "accept"}
    )
    assert answer["type"] == "error" and ds.take([3]).shape[0] == 1


def test_grouped_order_keeps_groups_together() -> None:

    score = np.array([0.1, np.nan, 0.9, 0.5, 0.0, 0.7, np.nan])
    group = np.array([0, -1, 0, -1, 1, 1, -1])
    keeper = np.array([True, False, False, False, True, False, False])
    desc = grouped_order(score, group, keeper, by="score", ascending=False)
    assert desc.tolist() == [0, 2, 4, 5, 3, 1, 6]
    asc = grouped_order(score, group, keeper, by="score", ascending=True)
    assert asc.tolist() == [3, 4, 5, 0, 2, 1, 6]
    assert grouped_order(score, group, None, by="group", ascending=False).tolist() == [
        5,
        4,
        2,
        0,
        3,
        1,
        6,
    ]
    with pytest.raises(ValueError, match="by must be"):
        grouped_order(score, group, keeper, by="label", ascending=True)


def test_origin_badge_column(ds: Any, talk: Talk) -> None:
    grid = SampleGrid(ds)
    assert "origin" not in [c["name"] for c in grid.schema]  # nothing was made yet
    plan = ds.plan("synthesize", {"method": "test"})
    made = plan.add(
        pd.DataFrame({"n": [1, 2], "x": [0.5, 0.6], "text": ["a", "b"], "label": ["cat", "dog"]}),
        origin="synthetic:test",
        source_ids=[0, 1],
    )
    ds.apply(plan.change())
    ds.apply(ds.plan("pseudo_label").relabel([3], ["bird"], origin="pseudo").change())
    col = next(c for c in grid.schema if c["role"] == "origin")  # appeared with the rows
    assert (col["name"], col["kind"]) == ("origin", "origin")
    p = page(talk, grid, offset=0, limit=200)
    origin = dict(zip(p["ids"], p["columns"]["origin"], strict=True))
    assert [origin[int(i)] for i in made] == ["synthetic:test"] * 2
    assert origin[3] == "pseudo label" and origin[0] is None
    by_origin = page(talk, grid, offset=0, limit=3, sort={"column": "origin", "ascending": True})
    assert set(by_origin["ids"]) == {3, *map(int, made)}


def test_label_action_findings_ask_a_person(ds: Any, talk: Talk) -> None:
    """Active-learning candidates (action "label", no suggestion): a person picks the class."""
    frame = pd.DataFrame(
        {"uncertainty": [0.9, 0.4, 0.7], "ask": [True, True, False]}, index=[12, 30, 55]
    )
    pool = dj.Findings(
        frame, op="active_learning", roles={"score": "uncertainty", "flag": "ask"}, action="label"
    )
    grid = SampleGrid(ds, findings=pool)
    refused = talk(grid, {"type": "accept", "request_id": 1, "ids": [12]})
    assert refused["type"] == "error" and "pick a class" in refused["message"]
    ed = LabelEditor(ds, pool)
    assert ed.queue.tolist() == [12, 30] and not ed.has_suggestions
    enter = talk(ed, {"type": "decide", "request_id": 2, "index": 0, "action": "accept"})
    assert enter["type"] == "error" and "pick a class" in enter["message"] and ds.version == 0
    current = ds.take([12])["label"].iloc[0]
    new = next(c for c in CLASSES if c != current)
    pick = talk(
        ed, {"type": "decide", "request_id": 3, "index": 0, "action": "label", "label": new}
    )
    assert pick["type"] == "ok" and pick["changed"] and ds.take([12])["label"].iloc[0] == new
    last = ds.history.changes.iloc[-1]
    assert (last.op, last.source, last.widget) == ("relabel", "widget", "LabelEditor")


def test_most_suspicious_first_agrees_with_findings_and_editor(ds: Any, talk: Talk) -> None:
    """Sorting by the score, descending: ties in row order, as Findings.sorted() and the
    editor's queue have them (not the reversed ascending order)."""
    scores = np.repeat([0.9, 0.5, 0.2, 0.0], 25)[np.random.default_rng(5).permutation(100)]
    frame = pd.DataFrame({"s": scores, "f": scores >= 0.5}, index=pd.Index(ds.ids))
    found = dj.Findings(frame, op="ties", roles={"score": "s", "flag": "f"}, action="remove")
    grid = SampleGrid(ds, findings=found)
    expect = found.sorted().ids.tolist()
    for _ in range(2):  # from a partition first, then from the full sort
        pages = [
            page(talk, grid, offset=o, limit=20, sort={"column": "s", "ascending": False})
            for o in range(0, 100, 20)
        ]
        assert [i for p in pages for i in p["ids"]] == expect
        for thread in threading.enumerate():
            if thread.name == "dcai-grid-sort":
                thread.join()
    flagged = page(
        talk,
        grid,
        offset=0,
        limit=100,
        filter={"flagged": True},
        sort={"column": "s", "ascending": False},
    )
    assert flagged["ids"] == LabelEditor(ds, found).queue.tolist() == found.flagged.ids.tolist()
    asc = page(talk, grid, offset=0, limit=100, sort={"column": "s", "ascending": True})
    assert asc["ids"] == pd.Series(scores, index=ds.ids).sort_values(kind="stable").index.tolist()


def _digit_findings(n: int = 20, n_flagged: int = 6):
    return digit_findings(n, n_flagged)


def test_resolved_state_of_findings_in_grid_and_editor():
    from dcai_jupyter.widgets import LabelEditor, SampleGrid

    ds, f = _digit_findings()
    ds.relabel([0], [1])  # its suggestion: accepted
    ds.relabel([1], [5])  # another class: relabeled
    ds.remove([2])
    ds.relabel([10], [3])  # not flagged: stays unresolved
    editor = LabelEditor(ds, f)
    assert editor.total == 3 and editor.resolved_count == 3
    assert editor.queue.tolist() == [3, 4, 5]
    grid = SampleGrid(ds, findings=f)
    gen = grid.review_generation
    page = grid.handle_message({"type": "page", "request_id": 1, "offset": 0, "limit": 12})
    assert page["resolved"][:3] == ["accepted", "relabeled", None]  # 2 is gone: row 2 is id 3
    assert page["ids"][:3] == [0, 1, 3]
    assert page["counts"] == {"flagged": 6, "resolved": 3}
    # a keep decision resolves the finding in every view; undo reopens it
    assert editor.handle_message({"type": "decide", "index": 0, "action": "keep"})["type"] == "ok"
    assert grid.review_generation == gen + 1
    msg = {"type": "page", "request_id": 2, "offset": 0, "limit": 12}
    only = grid.handle_message({**msg, "filter": {"review": "resolved"}})
    assert only["ids"] == [0, 1, 3] and only["resolved"] == ["accepted", "relabeled", "kept"]
    still = grid.handle_message({**msg, "filter": {"review": "open"}})
    assert still["ids"] == [4, 5]
    editor.handle_message({"type": "undo", "request_id": 3})
    assert grid.handle_message({**msg, "filter": {"review": "open"}})["ids"] == [3, 4, 5]
    bad = grid.handle_message({**msg, "filter": {"review": "done"}})
    assert bad["type"] == "error" and "filter.review" in bad["message"]
    assert LabelEditor(ds, f, include_resolved=True).total == 6


def test_editor_skips_what_is_resolved_elsewhere_while_it_is_open():
    """Findings resolved by a cell or another view after the editor was made leave its queue
    too: the counts follow, the sample shown moves on, moving passes over them."""
    from dcai_jupyter.widgets import LabelEditor, SampleGrid

    ds, f = _digit_findings()  # flagged 0-5, most suspicious first
    editor = LabelEditor(ds, f)
    assert editor.queue.tolist() == [0, 1, 2, 3, 4, 5]
    assert (editor.open_count, editor.resolved_count, editor.position) == (6, 0, 0)
    ds.relabel([1, 2], [2, 3])  # a cell accepts two suggestions
    assert (editor.open_count, editor.resolved_count, editor.position) == (4, 2, 0)
    ds.relabel([0], [5])  # the sample shown, relabeled in a cell: the editor moves on
    assert (editor.open_count, editor.resolved_count, editor.position) == (3, 3, 3)
    item = editor.handle_message({"type": "item", "request_id": 1, "index": editor.position})
    assert item["id"] == 3 and item["resolved"] is None
    answer = editor.handle_message(
        {"type": "decide", "request_id": 2, "index": 3, "action": "accept"}
    )
    assert answer["position"] == 4 and editor.reviewed == 1
    assert (editor.open_count, editor.resolved_count) == (2, 3)  # shown: 4 resolved
    # back: 3 (decided here) is there; before it, all were resolved elsewhere: stay
    editor.handle_message({"type": "move", "request_id": 3, "to": 3})
    assert editor.position == 3
    editor.handle_message({"type": "move", "request_id": 4, "to": 2})
    assert editor.position == 3
    # a grid marks 5 reviewed; the editor's next move passes over it to the end
    grid = SampleGrid(ds, findings=f)
    grid.handle_message(
        {"type": "bulk", "request_id": 5, "action": "review", "scope": "selection", "ids": [5]}
    )
    assert (editor.open_count, editor.resolved_count) == (1, 4)
    editor.handle_message({"type": "move", "request_id": 6, "to": 4})
    assert editor.position == 4
    answer = editor.handle_message(
        {"type": "decide", "request_id": 7, "index": 4, "action": "keep"}
    )
    assert answer["position"] == 6 == editor.total  # done: 5 was reviewed in the grid
    assert (editor.open_count, editor.resolved_count, editor.reviewed) == (0, 4, 2)
    # undo in the editor reopens its own decision
    editor.handle_message({"type": "undo", "request_id": 8})
    assert (editor.open_count, editor.position) == (1, 4)
    # include_resolved: nothing is skipped; what is decided in it is what is done
    every = LabelEditor(ds, f, include_resolved=True)
    ds.relabel([4], [9])
    assert (every.open_count, every.resolved_count, every.position) == (6, 0, 0)
    every.handle_message({"type": "decide", "request_id": 9, "index": 0, "action": "keep"})
    assert (every.open_count, every.reviewed, every.position) == (5, 1, 1)


def test_grid_pushes_a_relabel_patch_before_the_new_version(monkeypatch):
    from dcai_jupyter.widgets import SampleGrid

    ds, f = _digit_findings()
    grid = SampleGrid(ds, findings=f)
    sent: list[Any] = []
    monkeypatch.setattr(grid, "send", lambda content, buffers=None: sent.append(content))
    ds.relabel([0, 7], [1, 2])
    # the samples per label, kept from the relabel's delta (0 -> 1, 7 -> 2)
    labels = sent[0].pop("labels")
    assert labels["version"] == 1 and dict(map(tuple, labels["values"]))[7] == 1
    assert sent == [
        {
            "type": "patch",
            "version": 1,
            "ids": [0, 7],
            "label": [1, 2],
            "pool": None,  # every row has a label: no pool counts to show
            "resolved": ["accepted", None],
            "counts": {"flagged": 6, "resolved": 1},
        }
    ]
    assert grid.version == 1
    sent.clear()
    ds.remove([3])  # not a relabel: the views refetch
    assert sent == []


def test_grid_detail_answers_fields_finding_and_history():
    from dcai_jupyter.widgets import SampleGrid

    ds, f = _digit_findings()
    grid = SampleGrid(ds, findings=f)
    grid.handle_message({"type": "relabel", "ids": [1], "label": 7, "request_id": 1})
    a = grid.handle_message({"type": "detail", "id": 1, "request_id": 2})
    assert a["fields"] == [["x", 1.0], ["label", 7]]
    assert dict(a["finding"])["suggested_label"] == 2 and a["resolved"] == "relabeled"
    assert [(c["op"], c["source"], c["where"]) for c in a["history"]] == [
        ("relabel", "widget", "SampleGrid")
    ]
    assert grid.handle_message({"type": "detail", "id": 2, "request_id": 3})["history"] == []
    ds.remove([2])
    gone = grid.handle_message({"type": "detail", "id": 2, "request_id": 4})
    assert gone["type"] == "error" and "no longer in the dataset" in gone["message"]


def test_pages_count_labeled_and_pool_rows_when_there_is_a_pool(talk: Talk) -> None:
    df = pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.4], "label": ["a", "b", None, None]})
    ds = dj.Dataset(df, label="label")
    grid = SampleGrid(ds)
    assert page(talk, grid, offset=0, limit=4)["pool"] == {"labeled": 2, "unlabeled": 2}
    ds.relabel([2], ["a"])
    assert page(talk, grid, offset=0, limit=4)["pool"] == {"labeled": 3, "unlabeled": 1}
    ds.relabel([3], ["b"])
    assert "pool" not in page(talk, grid, offset=0, limit=4)  # no pool left: nothing shown
