"""The Data history side panel: open time and bytes for a long history, update latency,
and what the extension costs at JupyterLab start.

Run: .venv/bin/python benchmarks/panel.py [--changes 10000] [--iterations 500] [--starts 3]

Prints:
- the history API (a real ``jupyter server``): the requests the panel makes when it opens
  (histories + the first page of iterations), cold (first read of the file) and warm, with
  the bytes of the JSON answers;
- in headless Chromium (JupyterLab, network closed), when /usr/bin/chromium exists:
  click on the toolbar button -> 50 iterations drawn, the bytes of every /dcai/api answer in
  that time, and change made in another process -> panel updated;
- JupyterLab start with the extensions enabled and disabled (server: until /api/status
  answers; browser: until the splash screen is gone), median of --starts runs each.
Targets (issue 13): panel open <= 1 s and <= 200 KB for 10,000 changes; change -> panel
<= 1 s; start cost < 100 ms. Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import dcai_jupyter as dj
from dcai_jupyter.core import _provenance

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "ui"))
from labharness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LabServer,
    new_page,
    write_notebook,
)

CLASSES = [f"class_{i}" for i in range(10)]
PANEL_ITEMS = '#dcai-data-history [data-testid="dcai-hp-iteration"]'


@contextmanager
def as_cell(cell_id: str, count: int, code: str) -> Iterator[None]:
    """Record the changes made inside as made by a notebook cell (as the kernel would)."""
    prov = _provenance.Provenance(f"cell:{uuid.uuid4().hex}", "cell", count, cell_id, code)
    orig = _provenance.current
    _provenance.current = lambda: prov
    try:
        yield
    finally:
        _provenance.current = orig


def build_history(folder: Path, n_changes: int, n_iterations: int) -> dj.Dataset:
    """``n_changes`` changes in ``n_iterations`` cell runs (each one cell of its own)."""
    rng = np.random.default_rng(0)
    n = 20_000
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "label": np.asarray(CLASSES, dtype=object)[rng.integers(0, 10, n)],
        }
    )
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        ds = dj.Dataset(df, label="label", name="bench")
        per = n_changes // n_iterations
        ids = ds.ids
        k = 0
        for it in range(n_iterations):
            code = f"# iteration {it}\nfor i in picks:\n    ds.relabel([i], [new_label(i)])"
            with as_cell(f"cell-{it:04d}", it + 1, code):
                for j in range(per):
                    if j == per - 1 and it % 5 == 0:
                        ds.remove([int(ids[-(it + 1)])])
                    else:
                        i = int(ids[k % (n // 2)])
                        k += 1
                        cur = ds.take([i])["label"].iloc[0]
                        ds.relabel([i], [CLASSES[(CLASSES.index(cur) + 1) % 10]])
    finally:
        os.chdir(cwd)
    return ds


def get(server: LabServer, endpoint: str, **params: Any) -> tuple[float, int, Any]:
    url = f"{server.url}/dcai/api/{endpoint}?{urllib.parse.urlencode(params)}"
    req = urllib.request.Request(url, headers={"Authorization": f"token {server.token}"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read()
    return time.perf_counter() - t0, len(body), json.loads(body)


def api_open(server: LabServer, notebook: str) -> tuple[float, int]:
    """The panel's requests on open: the list (with cell markers), then the first page."""
    t1, b1, listing = get(server, "histories", notebook=notebook)
    total_t, total_b = t1, b1
    for h in listing["histories"]:
        t, b, _ = get(server, "iterations", path=h["path"], offset=0, limit=50)
        total_t += t
        total_b += b
    return total_t, total_b


class Lab(LabServer):
    """A JupyterLab whose dcai_jupyter extensions can be switched off by config."""

    def __init__(self, base: Path, *, enabled: bool = True) -> None:
        super().__init__(base)
        if not enabled:
            config = base / "jupyter" / "config"
            (config / "labconfig").mkdir(parents=True, exist_ok=True)
            (config / "jupyter_server_config.json").write_text(
                json.dumps({"ServerApp": {"jpserver_extensions": {"dcai_jupyter._server": False}}})
            )
            (config / "labconfig" / "page_config.json").write_text(
                json.dumps({"disabledExtensions": {"dcai-jupyter:data-history": True}})
            )


def timed_start(base: Path, enabled: bool) -> tuple[float, Lab]:
    lab = Lab(base, enabled=enabled)
    t0 = time.perf_counter()
    lab.start()
    return time.perf_counter() - t0, lab


def browser_open(browser: Any, lab: Lab, notebook: str, ds: dj.Dataset, folder: Path) -> None:
    page, _, _ = new_page(browser, 120)
    sizes: list[tuple[str, int]] = []
    recording = [False]

    def on_response(resp: Any) -> None:
        if "/dcai/api/" in resp.url and recording[0]:
            endpoint = resp.url.split("/dcai/api/")[1].split("?")[0]
            try:
                sizes.append((endpoint, len(resp.body())))
            except Exception as exc:
                print(f"  (no body for {endpoint}: {exc})")

    page.on("response", on_response)
    page.goto(lab.lab_url(notebook, "bench-panel"))
    page.locator("#jupyterlab-splash").wait_for(state="detached")
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
    # measure on a settled page: the kernel started and idle
    page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\|\s*Idle")).wait_for()
    button = page.locator(".dcai-hp-toolbar-button").first
    button.wait_for()
    page.evaluate("() => { window.__dcai_t0 = performance.now(); }")
    recording[0] = True
    button.click()
    ms = page.evaluate(
        """(sel) => new Promise(resolve => {
            const check = () => document.querySelectorAll(sel).length >= 50
                ? resolve(performance.now() - window.__dcai_t0) : requestAnimationFrame(check);
            check();
        })""",
        PANEL_ITEMS,
    )
    # response events arrive while evaluate() waits and are handled after it: read them now
    page.locator(PANEL_ITEMS).first.wait_for()
    recording[0] = False
    opened = []
    for endpoint in ("histories", "iterations"):
        got = next((b for n, b in sizes if n == endpoint), None)
        if got is not None:
            opened.append((endpoint, got))
    kb = sum(b for _, b in opened) / 1024
    print(
        f"browser: click -> 50 iterations drawn {ms:.0f} ms; /dcai/api bytes {kb:.1f} KB "
        f"({', '.join(f'{n} {b / 1024:.1f} KB' for n, b in opened)})"
    )

    # change -> panel updated: one more iteration written by this process
    before = int(page.locator(PANEL_ITEMS).first.get_attribute("data-iteration") or 0)
    page.evaluate(
        """([sel, n]) => { window.__dcai_seen = new Promise(resolve => {
            const check = () => {
                const first = document.querySelector(sel);
                if (first && Number(first.dataset.iteration) > n) resolve(Date.now());
                else requestAnimationFrame(check);
            };
            check();
        }); }""",
        [PANEL_ITEMS, before],
    )
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with as_cell("cell-new", 9999, "ds.relabel([0], ['class_0'])"):
            i = int(ds.ids[1])
            cur = ds.take([i])["label"].iloc[0]
            ds.relabel([i], [CLASSES[(CLASSES.index(cur) + 1) % 10]])
        t_commit = time.time() * 1000
    finally:
        os.chdir(cwd)
    seen = page.evaluate("() => window.__dcai_seen")
    print(f"browser: change committed -> panel shows it {seen - t_commit:.0f} ms")
    page.context.close()


def page_load(browser: Any, lab: Lab, workspace: str) -> float:
    """Seconds from navigation to JupyterLab's splash screen gone (a fresh context)."""
    page, _, _ = new_page(browser, 120)
    try:
        q = urllib.parse.urlencode({"token": lab.token, "reset": ""})
        t0 = time.perf_counter()
        page.goto(f"{lab.url}/lab/workspaces/{workspace}?{q}")
        page.locator("#jupyterlab-splash").wait_for(state="detached")
        return time.perf_counter() - t0
    finally:
        page.context.close()


@contextmanager
def browser_or_none() -> Iterator[Any]:
    """Headless Chromium when /usr/bin/chromium exists, else None."""
    if not os.path.exists(CHROMIUM):
        yield None
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--changes", type=int, default=10_000)
    ap.add_argument("--iterations", type=int, default=500)
    ap.add_argument("--starts", type=int, default=3)
    args = ap.parse_args()

    base = Path(tempfile.mkdtemp(prefix="dcai-bench-panel-"))
    with threadpool_limits(1):
        lab = Lab(base / "lab")
        lab.start()
        try:
            folder = lab.root_dir / "proj"
            folder.mkdir()
            write_notebook(folder / "nb.ipynb", ["import dcai_jupyter as dj"])
            t0 = time.perf_counter()
            ds = build_history(folder, args.changes, args.iterations)
            print(
                f"history: {ds.version} changes in {len(ds.history.iterations)} iterations, "
                f"built in {time.perf_counter() - t0:.1f} s; file "
                f"{(folder / '.dcai' / 'bench.sqlite').stat().st_size / 1024:.0f} KB"
            )
            cold_t, cold_b = api_open(lab, "proj/nb.ipynb")
            warm = [api_open(lab, "proj/nb.ipynb") for _ in range(5)]
            print(
                f"API open (histories + first 50 iterations): cold {cold_t * 1000:.0f} ms, "
                f"warm median {statistics.median(t for t, _ in warm) * 1000:.0f} ms; "
                f"{cold_b / 1024:.1f} KB  (target <= 1000 ms, <= 200 KB)"
            )
            t, b, _ = get(lab, "stamp", notebook="proj/nb.ipynb")
            print(f"API stamp poll: {t * 1000:.1f} ms, {b} B")
            t, b, _ = get(lab, "iterations", path="proj/.dcai/bench.sqlite", offset=450, limit=50)
            print(f"API older page (offset 450): {t * 1000:.1f} ms, {b / 1024:.1f} KB")

            with browser_or_none() as browser:
                if browser is not None:
                    browser_open(browser, lab, "proj/nb.ipynb", ds, folder)
                else:
                    print(f"browser: skipped ({CHROMIUM} missing)")
        finally:
            lab.stop()

        # start cost: alternate the order of enabled / disabled each round (ABBA) so drifts in
        # the machine's load hit both alike
        server_t: dict[bool, list[float]] = {True: [], False: []}
        page_t: dict[bool, list[float]] = {True: [], False: []}
        with browser_or_none() as browser:
            for r in range(args.starts):
                for enabled in (True, False) if r % 2 == 0 else (False, True):
                    t, lab_r = timed_start(base / f"start-{r}-{enabled}", enabled)
                    try:
                        server_t[enabled].append(t)
                        if browser is not None:
                            page_t[enabled].append(page_load(browser, lab_r, f"s{r}"))
                        loaded = "Data history API" in lab_r.log_tail()
                        if loaded != enabled:
                            raise RuntimeError(
                                f"the extension was {'not ' if enabled else ''}loaded:\n"
                                + lab_r.log_tail()
                            )
                    finally:
                        lab_r.stop()

        def med(xs: list[float]) -> str:
            return f"{statistics.median(xs) * 1000:.0f} ms" if xs else "-"

        if not server_t[True] or not server_t[False]:
            return
        on, off = statistics.median(server_t[True]), statistics.median(server_t[False])
        print(
            f"server start to /api/status: with {med(server_t[True])}, without "
            f"{med(server_t[False])} -> +{(on - off) * 1000:.0f} ms "
            f"(runs {[round(x * 1000) for x in server_t[True]]} / "
            f"{[round(x * 1000) for x in server_t[False]]})"
        )
        if page_t[True] and page_t[False]:
            on_p, off_p = statistics.median(page_t[True]), statistics.median(page_t[False])
            print(
                f"page load to splash gone: with {med(page_t[True])}, without "
                f"{med(page_t[False])} -> +{(on_p - off_p) * 1000:.0f} ms"
            )


if __name__ == "__main__":
    main()
