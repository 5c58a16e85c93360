"""Crash safety (SIGKILL mid-stream) and thread safety of recorded changes."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pandas as pd

import dcai_jupyter as dj

WRITER = textwrap.dedent(
    """
    import sys, numpy as np, pandas as pd
    import dcai_jupyter as dj
    n = 2000
    df = pd.DataFrame({"x": np.arange(n, dtype=float), "label": np.arange(n) % 7})
    ds = dj.Dataset(df, label="label", name="crash", history=sys.argv[1])
    print("ready", flush=True)
    i = 0
    while True:
        ds.relabel([i % n], [int((i * 31) % 7 + 7)])
        if i % 97 == 0:
            ds.remove([n - 1 - (i // 97)])
        if i % 25 == 0:
            print("committed", ds.version, flush=True)  # each call returns after its commit
        i += 1
    """
)


def _wait_for_version(proc: subprocess.Popen[bytes], target: int, timeout: float) -> int:
    """Read the writer's progress lines until it reports ``target`` committed changes."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    version = 0
    while version < target:
        left = deadline - time.monotonic()
        assert left > 0, f"the writer reported only {version} changes in {timeout} s"
        if not sel.select(timeout=left):  # blocks until the writer prints (or exits)
            continue
        line = proc.stdout.readline()
        assert line, f"the writer exited early with code {proc.wait()}"
        word, _, num = line.decode().partition(" ")
        if word == "committed":
            version = int(num)
    sel.close()
    return version


def test_sigkill_leaves_last_committed_change(tmp_path):
    path = tmp_path / "crash.sqlite"
    # unbuffered, so that waiting on the pipe sees every line as it is written
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, bufsize=0
    )
    try:
        # Wait until a good number of changes are committed, then kill without warning.
        reported = _wait_for_version(proc, 400, timeout=60)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    n = 2000
    df = pd.DataFrame({"x": np.arange(n, dtype=float), "label": np.arange(n) % 7})
    h = dj.open_history(path)
    head = h.head
    assert head >= reported >= 400  # every change reported as committed survived the kill
    out = h.replay(df)  # strict: checks the fingerprint recorded with the last committed change
    # the writer's own sequence, re-done in plain pandas up to the committed head
    want = df.copy()
    version, i = 0, 0
    while version < head:
        want.loc[i % n, "label"] = int((i * 31) % 7 + 7)
        version += 1
        if i % 97 == 0 and version < head:
            want = want.drop(index=n - 1 - (i // 97))
            version += 1
        i += 1
    pd.testing.assert_frame_equal(
        out.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False
    )
    assert list(out.index) == list(want.index)
    ds = dj.Dataset(df, label="label", name="crash", history=path)
    assert ds.version == head
    pd.testing.assert_frame_equal(ds.df, out)


def test_concurrent_relabels_from_four_threads(tmp_path):
    n = 5000
    df = pd.DataFrame({"x": np.arange(n, dtype=float), "label": np.zeros(n, dtype=np.int64)})
    ds = dj.Dataset(df, label="label", name="threads", history=tmp_path / "t.sqlite")
    per_thread = 1000
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(t: int) -> None:
        try:
            barrier.wait()
            for k in range(per_thread):
                ds.relabel([t * per_thread + k], [t + 1])
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert ds.version == 4 * per_thread
    labels = ds.df["label"].to_numpy()
    for t in range(4):
        assert (labels[t * per_thread : (t + 1) * per_thread] == t + 1).all()
    assert (labels[4 * per_thread :] == 0).all()
    ds.verify()
    h = dj.open_history(tmp_path / "t.sqlite")
    assert h.head == 4000
    pd.testing.assert_frame_equal(h.replay(df), ds.df)
