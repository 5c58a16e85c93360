"""The notebook's stop button on a real kernel (issue 21), with no browser: a cell runs a long
operation, the kernel is interrupted once its progress line is on screen, and the history
holds nothing of it; the line says the step stopped, and the next cell works."""

from __future__ import annotations

import time

import pytest
from _interrupt_data import history_rows, labelled_frame

jupyter_client = pytest.importorskip("jupyter_client")

pytestmark = pytest.mark.slow

SETUP = """
import pandas as pd
import dcai_jupyter as dj
df = pd.read_pickle("frame.pkl")
ds = dj.Dataset(df, label="label", name="stop", history="stop.sqlite")
ds.relabel([0], [int(df.loc[0, "label"] + 1) % 5])
print("ready", ds.version)
"""

LONG = "issues = ds.find_label_issues(cv=10)"


def _run(kc, code: str, timeout: float = 300, on_output=None) -> tuple[dict, list[dict]]:
    """Execute ``code``; its reply and the iopub messages of the cell."""
    msg_id = kc.execute(code)
    outputs: list[dict] = []
    deadline = time.monotonic() + timeout
    idle = False
    while not idle:
        msg = kc.get_iopub_msg(timeout=max(1.0, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
            continue
        outputs.append(msg)
        if on_output is not None:
            on_output(msg)
    reply = kc.get_shell_msg(timeout=60)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=60)
    return reply["content"], outputs


def _plain(msg: dict) -> str:
    c = msg["content"]
    return c.get("data", {}).get("text/plain", "") or c.get("text", "")


def test_the_stop_button_during_a_long_find_leaves_the_history_whole(tmp_path):
    labelled_frame(20000, n_features=20, n_informative=10, n_classes=5).to_pickle(
        tmp_path / "frame.pkl"
    )
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        reply, out = _run(kc, SETUP)
        assert reply["status"] == "ok", out
        path = tmp_path / "stop.sqlite"
        before = history_rows(path)
        assert len(before["changes"]) == 1

        interrupted = []

        def interrupt_once_progress_shows(msg):
            # the bar's line is redrawn as tasks finish: stop after the first task is done
            text = _plain(msg)
            if (
                not interrupted
                and msg["msg_type"] == "update_display_data"
                and "label issues" in text
            ):
                if "/" in text and not text.split(":", 1)[1].strip().startswith("0/"):
                    km.interrupt_kernel()
                    interrupted.append(text)

        reply, out = _run(kc, LONG, on_output=interrupt_once_progress_shows)
        assert interrupted, [_plain(m) for m in out]
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
        # the line that stays in the notebook says the step stopped, with an estimate before
        assert "left" in interrupted[0]
        assert any("stopped after" in _plain(m) for m in out), [_plain(m) for m in out]
        assert history_rows(path) == before  # not even a find event

        reply, out = _run(
            kc,
            "print(ds.version, ds.history.head, len(ds.history.events));"
            "v = ds.relabel([1], [0 if ds.df.loc[1, 'label'] else 1]); print(v)",
        )
        assert reply["status"] == "ok", out
        printed = "".join(_plain(m) for m in out if m["msg_type"] == "stream").split()
        assert printed == ["1", "1", "0", "2"]
        assert len(history_rows(path)["changes"]) == 2
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
