"""Provenance in a real kernel: a change made in the user's own widget callback is a callback's."""

from __future__ import annotations

import ast
import textwrap
import time
from typing import Any

import pytest

import dcai_jupyter as dj

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")

SETUP = textwrap.dedent(
    """
    import pandas as pd
    import ipywidgets as w
    import dcai_jupyter as dj
    from dcai_jupyter.core._provenance import widget_source

    ds = dj.Dataset(
        pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "label": ["a", "b", "a", "b"]}),
        label="label", name="cb", history="cb.sqlite",
    )
    ds.relabel([0], ["b"])
    flip = w.Button(description="flip")
    flip.on_click(lambda _: ds.relabel([1], ["a"]))

    def _ours(_):
        with widget_source("label-editor"):  # what our own widgets do
            ds.relabel([2], ["b"])

    ours = w.Button(description="ours")
    ours.on_click(_ours)

    # a trait observer: what interact and most widget callbacks are
    slider = w.IntSlider(value=0, max=3)
    slider.observe(lambda change: ds.relabel([change["new"]], ["b"]), names="value")
    """
)


def _run_to_idle(kc: Any, msg_id: str, timeout: float = 60) -> list[dict[str, Any]]:
    """IOPub messages caused by request ``msg_id``, up to the kernel going idle."""
    out = []
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        out.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return out


def _send(kc: Any, model_id: str, data: dict[str, Any]) -> None:
    """Send a widget message as the front end does, and wait until the kernel handled it."""
    msg = kc.session.msg("comm_msg", {"comm_id": model_id, "data": data})
    kc.shell_channel.send(msg)
    outputs = _run_to_idle(kc, msg["header"]["msg_id"])
    errors = [m["content"] for m in outputs if m["msg_type"] == "error"]
    assert not errors, errors


def _click(kc: Any, model_id: str) -> None:
    """What the front end sends when a Button is clicked."""
    _send(kc, model_id, {"method": "custom", "content": {"event": "click"}})


def _drag(kc: Any, model_id: str, value: int) -> None:
    """What the front end sends when a slider is moved."""
    _send(kc, model_id, {"method": "update", "state": {"value": value}, "buffer_paths": []})


def test_user_widget_callback_is_not_the_last_cells_change(tmp_path):
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        reply = kc.execute_interactive(
            SETUP,
            user_expressions={k: f"{k}.model_id" for k in ("flip", "ours", "slider")},
            timeout=120,
        )
        assert reply["content"]["status"] == "ok", reply["content"]
        exprs = reply["content"]["user_expressions"]
        flip, ours, slider = (
            ast.literal_eval(exprs[k]["data"]["text/plain"]) for k in ("flip", "ours", "slider")
        )
        _click(kc, flip)
        _click(kc, ours)
        reply = kc.execute_interactive("ds.relabel([3], ['a'])", timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        _drag(kc, slider, 3)  # relabels row 3 back to "b"
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    ch = dj.open_history(tmp_path / "cb.sqlite").changes
    assert ch["ids"].tolist() == [[0], [1], [2], [3], [3]]
    assert ch["source"].tolist() == ["cell", "callback", "widget", "cell", "callback"]
    setup, callback, ours_change, after, dragged = (ch.iloc[i] for i in range(5))
    assert setup["code"] == SETUP and setup["widget"] is None
    # the click ran no cell: no code, and the widget that was clicked
    assert callback["code"] is None and callback["widget"] == flip
    assert callback["execution_count"] == setup["execution_count"]  # the session it fell in
    # our own widgets name themselves, inside a comm message too
    assert ours_change["widget"] == "label-editor" and ours_change["code"] is None
    assert after["code"] == "ds.relabel([3], ['a'])" and after["widget"] is None
    # the slider moved after that cell ran: its change is not that cell's either
    assert dragged["code"] is None and dragged["widget"] == slider
    assert dragged["execution_count"] == after["execution_count"]
    it = dj.open_history(tmp_path / "cb.sqlite").iterations
    assert it["source"].tolist() == ["cell", "callback", "widget", "cell", "callback"]
