"""The read-only history API of the Jupyter server extension, against a real ``jupyter server``.

The server runs from this environment with the extension enabled the way a ``pip install``
enables it (``etc/jupyter/jupyter_server_config.d/dcai_jupyter.json``), every Jupyter
directory under a temporary folder. Histories are written by ``dj.Dataset`` itself.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj
from dcai_jupyter.core import _provenance

SERVER_DIR = Path(dj.__file__).parent / "_server"
ENDPOINTS = ["stamp", "histories", "iterations", "iteration", "changes", "cell"]


# ---------------------------------------------------------------------- the server
class Server:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "root"
        self.root.mkdir(parents=True)
        self.token = uuid.uuid4().hex
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = base / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        j = self.base / "jupyter"
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(j / "config"),
            JUPYTER_DATA_DIR=str(j / "data"),
            JUPYTER_RUNTIME_DIR=str(j / "runtime"),
            JUPYTER_PLATFORM_DIRS="1",
        )
        env.pop("JUPYTER_PATH", None)
        cmd = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
        ]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter server exited:\n{self.log.read_text()}")
            try:
                self.get("/api/status")
                return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"jupyter server did not start:\n{self.log.read_text()}"
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def raw(self, path: str, token: str | None = "default") -> tuple[int, bytes]:
        """GET ``path``; returns (status, body) for any status."""
        headers = {}
        tok = self.token if token == "default" else token
        if tok is not None:
            headers["Authorization"] = f"token {tok}"
        req = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def get(self, path: str) -> Any:
        status, body = self.raw(path)
        assert status == 200, (status, body[:2000])
        return json.loads(body)

    def api(self, endpoint: str, **params: Any) -> tuple[int, Any]:
        status, body = self.raw(f"/dcai/api/{endpoint}?{urllib.parse.urlencode(params)}")
        return status, json.loads(body) if body else None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("dcai-server"))
    s.start()
    try:
        yield s
    finally:
        s.stop()


# ---------------------------------------------------------------------- histories
@contextmanager
def as_cell(cell_id: str, count: int, code: str) -> Iterator[None]:
    """Record the changes made inside as made by a notebook cell (as a kernel would)."""
    prov = _provenance.Provenance(f"cell:{uuid.uuid4().hex}", "cell", count, cell_id, code)
    orig = _provenance.current
    _provenance.current = lambda: prov
    try:
        yield
    finally:
        _provenance.current = orig


def frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"x": rng.normal(size=n), "label": rng.choice(["cat", "dog", "bird"], n).astype(object)}
    )


def other(label: str) -> str:
    return {"cat": "dog", "dog": "bird", "bird": "cat"}[label]


def make_history(folder: Path, name: str, n_cells: int) -> dj.Dataset:
    """``n_cells`` iterations: cell k relabels k % 5 + 1 rows and removes one row."""
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        ds = dj.Dataset(frame(), label="label", name=name)
        for k in range(n_cells):
            with as_cell(f"cell-{k}", k + 1, f"# cell {k}\nds.relabel(...)"):
                ids = [int(i) for i in ds.ids[: k % 5 + 1]]
                ds.relabel(ids, [other(v) for v in ds.take(ids)["label"]], reason=f"k{k}")
                ds.remove([int(ds.ids[-1])])
    finally:
        os.chdir(cwd)
    return ds


@pytest.fixture(scope="module")
def histories(server: Server) -> dict[str, Any]:
    nb_dir = server.root / "proj"
    nb_dir.mkdir()
    (nb_dir / "analysis.ipynb").write_text("{}")
    ds = make_history(nb_dir, "pets", 120)
    small = make_history(nb_dir, "small", 2)
    return {"dir": nb_dir, "ds": ds, "small": small, "notebook": "proj/analysis.ipynb"}


# ---------------------------------------------------------------------- install
def _jupyter(*args: str) -> str:
    exe = Path(sys.executable).parent / "jupyter"
    r = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)
    return r.stdout + r.stderr


def test_both_extensions_are_enabled_by_the_install():
    server_list = _jupyter("server", "extension", "list")
    assert "dcai_jupyter._server" in server_list and "enabled" in server_list, server_list
    lines = [line for line in server_list.splitlines() if "dcai_jupyter._server" in line]
    assert any("OK" in line for line in lines), server_list
    lab_list = _jupyter("labextension", "list")
    line = next((x for x in lab_list.splitlines() if "dcai-jupyter" in x), "")
    assert "enabled" in line and "OK" in line, (
        "the prebuilt lab extension is not installed; rebuild with `pip install -e .` "
        f"(not DCAI_SKIP_JS=1):\n{lab_list}"
    )


# ---------------------------------------------------------------------- endpoints
def test_the_extension_turns_nodelay_on_for_kernel_websockets(server):
    # tests/test_server_nodelay.py checks the socket option itself; this, that the installed
    # extension configures it in a real server
    assert "kernel websockets send each message at once" in server.log.read_text()


def test_histories_lists_files_beside_the_notebook(server, histories):
    status, body = server.api("histories", notebook=histories["notebook"])
    assert status == 200, body
    assert body["directory"] == "proj"
    names = [h["name"] for h in body["histories"]]
    assert names == ["pets", "small"]
    pets = body["histories"][0]
    assert pets["path"] == "proj/.dcai/pets.sqlite"
    assert pets["head"] == 240 and pets["n_iterations"] == 120 and pets["error"] is None
    assert pets["base_rows"] == 300
    # cell markers: cell-7 relabeled 7 % 5 + 1 = 3 rows and removed 1 (in both histories)
    marker = body["cells"]["cell-7"]
    assert marker["ops"] == {
        "relabel": {"changes": 1, "rows": 3},
        "remove": {"changes": 1, "rows": 1},
    }
    assert marker["histories"] == ["pets"]
    both = body["cells"]["cell-1"]
    assert both["histories"] == ["pets", "small"] and both["n_changes"] == 4
    # the notebook's folder works as well as the notebook
    _, by_dir = server.api("histories", notebook="proj")
    assert [h["name"] for h in by_dir["histories"]] == ["pets", "small"]
    # a folder without .dcai: an empty list, not an error
    (server.root / "empty").mkdir(exist_ok=True)
    status, empty = server.api("histories", notebook="empty/x.ipynb")
    assert status == 200 and empty["histories"] == [] and empty["cells"] == {}


def test_iterations_are_paged_newest_first(server, histories):
    path = "proj/.dcai/pets.sqlite"
    seen: list[dict[str, Any]] = []
    offset = 0
    while True:
        status, body = server.api("iterations", path=path, offset=offset, limit=50)
        assert status == 200, body
        assert body["total"] == 120 and body["head"] == 240 and body["name"] == "pets"
        assert len(body["iterations"]) == min(50, 120 - offset)
        seen += body["iterations"]
        offset += 50
        if offset >= 120:
            break
    assert [it["iteration"] for it in seen] == list(range(120, 0, -1))
    assert [it["cell_id"] for it in seen] == [f"cell-{k}" for k in range(119, -1, -1)]
    ds = histories["ds"]
    truth = ds.history.iterations
    for it in seen:
        row = truth.loc[it["iteration"]]
        assert it["first_version"] == row.first_version and it["last_version"] == row.last_version
        k = it["iteration"] - 1
        assert it["ops"] == {
            "relabel": {"changes": 1, "rows": k % 5 + 1},
            "remove": {"changes": 1, "rows": 1},
        }
        assert it["source"] == "cell" and it["execution_count"] == k + 1
        assert it["code"] == f"# cell {k}\nds.relabel(...)"
    status, past = server.api("iterations", path=path, offset=500, limit=10)
    assert status == 200 and past["iterations"] == [] and past["total"] == 120


def test_bad_paging_arguments_are_clear_400s(server, histories):
    for params in ({"limit": 0}, {"limit": 100000}, {"offset": -1}, {"limit": "ten"}):
        status, body = server.api("iterations", path="proj/.dcai/pets.sqlite", **params)
        assert status == 400, (params, body)
        assert "must be" in body["message"], body


def test_iteration_diff_summary_and_changes(server, histories):
    path = "proj/.dcai/pets.sqlite"
    status, d = server.api("iteration", path=path, iteration=8)
    assert status == 200, d
    assert d["version_before"] == 14 and d["version_after"] == 16 and d["total"] == 2
    relabel, remove = d["changes"]
    assert relabel["op"] == "relabel" and relabel["n_rows"] == 3 and relabel["reason"] == "k7"
    truth = histories["ds"].history.changes
    assert relabel["ids"] == [int(i) for i in truth.loc[15, "ids"]]
    assert remove["ids"] == [int(i) for i in truth.loc[16, "ids"]]
    # the row-level diff of the iteration (core's History.diff): 3 relabeled, 1 removed
    diff = d["diff"]
    assert diff["counts"] == {"added": 0, "removed": 1, "relabeled": 3, "modified": 0}, diff
    truth_diff = histories["ds"].history.diff(14, 16)
    pairs = truth_diff.relabeled.groupby(["old", "new"]).size()
    assert {(p["old"], p["new"]): p["rows"] for p in diff["relabels"]} == {
        (str(o), str(n)): int(c) for (o, n), c in pairs.items()
    }
    assert diff["ids"] == truth_diff.ids
    status, missing = server.api("iteration", path=path, iteration=121)
    assert status == 404 and "no iteration 121" in missing["message"]

    status, ch = server.api("changes", path=path, offset=0, limit=7)
    assert status == 200 and ch["total"] == 240
    assert [c["version"] for c in ch["changes"]] == list(range(240, 233, -1))
    status, ch2 = server.api("changes", path=path, offset=7, limit=7)
    assert [c["version"] for c in ch2["changes"]] == list(range(233, 226, -1))


def test_cell_endpoint_lists_the_changes_of_one_cell(server, histories):
    status, body = server.api("cell", notebook=histories["notebook"], cell_id="cell-1")
    assert status == 200, body
    got = sorted((c["history"], c["version"], c["op"]) for c in body["changes"])
    assert got == [
        ("pets", 3, "relabel"),
        ("pets", 4, "remove"),
        ("small", 3, "relabel"),
        ("small", 4, "remove"),
    ]
    _, none = server.api("cell", notebook=histories["notebook"], cell_id="no-such-cell")
    assert none["changes"] == []


def test_metrics_recorded_at_a_version_are_shown(server, histories, tmp_path):
    folder = server.root / "metrics"
    folder.mkdir()
    ds = make_history(folder, "m", 3)
    for version, value in ((0, 0.5), (2, 0.7), (2, 0.75), (6, 0.8)):  # the newest per version wins
        ds.history.record_metrics(version, {"accuracy": value})
    _, body = server.api("iterations", path="metrics/.dcai/m.sqlite")
    by_it = {it["iteration"]: it["metrics"] for it in body["iterations"]}
    assert by_it == {1: {"accuracy": 0.75}, 2: {}, 3: {"accuracy": 0.8}}
    assert body["base_metrics"] == {"accuracy": 0.5}
    _, d = server.api("iteration", path="metrics/.dcai/m.sqlite", iteration=3)
    assert d["metrics_before"] == {"accuracy": 0.75} and d["metrics_after"] == {"accuracy": 0.8}


def test_stamp_changes_when_a_history_changes(server, histories):
    nb = histories["notebook"]
    _, a = server.api("stamp", notebook=nb)
    _, b = server.api("stamp", notebook=nb)
    assert a["stamp"] == b["stamp"]
    small = histories["small"]
    cwd = os.getcwd()
    os.chdir(histories["dir"])
    try:
        small.remove([int(small.ids[0])])
    finally:
        os.chdir(cwd)
    _, c = server.api("stamp", notebook=nb)
    assert c["stamp"] != a["stamp"]
    _, body = server.api("histories", notebook=nb)
    assert {h["name"]: h["head"] for h in body["histories"]}["small"] == small.version


# ---------------------------------------------------------------------- security
def test_no_token_is_403_for_every_endpoint(server, histories):
    params = "notebook=proj/analysis.ipynb&path=proj/.dcai/pets.sqlite&iteration=1&cell_id=cell-1"
    for ep in ENDPOINTS:
        status, _ = server.raw(f"/dcai/api/{ep}?{params}", token=None)
        assert status == 403, ep
        status, _ = server.raw(f"/dcai/api/{ep}?{params}", token="wrong")
        assert status == 403, ep
        status, _ = server.raw(f"/dcai/api/{ep}?{params}")
        assert status == 200, ep


def test_paths_outside_the_root_are_refused(server, histories, tmp_path):
    # a perfectly good history outside the root
    outside = tmp_path / "outside"
    outside.mkdir()
    make_history(outside, "secret", 1)
    secret = outside / ".dcai" / "secret.sqlite"
    root = server.root
    (root / "links" / ".dcai").mkdir(parents=True)
    (root / "links" / ".dcai" / "secret.sqlite").symlink_to(secret)
    (root / "linkdir").mkdir()
    (root / "linkdir" / ".dcai").symlink_to(outside / ".dcai")
    (root / "escape").symlink_to(outside)

    refused_paths = [
        "../outside/.dcai/secret.sqlite",
        "proj/../../outside/.dcai/secret.sqlite",
        "proj/..\\..\\x/.dcai/secret.sqlite",
        str(secret),  # absolute
        "/proj/.dcai/pets.sqlite",  # absolute, even inside
        "links/.dcai/secret.sqlite",  # symlinked file
        "linkdir/.dcai/secret.sqlite",  # symlinked folder
        "escape/.dcai/secret.sqlite",
    ]
    for p in refused_paths:
        status, body = server.api("iterations", path=p)
        assert status == 403, (p, status, body)
        assert "secret" not in json.dumps(body.get("iterations", "")), p
    for nb in ("../x.ipynb", str(outside / "x.ipynb"), "escape/x.ipynb", "proj/../../x.ipynb"):
        for ep in ("histories", "stamp"):
            status, body = server.api(ep, notebook=nb)
            assert status == 403, (ep, nb, status, body)
    # the symlinked history inside a listed folder is listed as refused, never read
    _, body = server.api("histories", notebook="links/nb.ipynb")
    (entry,) = body["histories"]
    assert entry["error"].startswith("refused") and "head" not in entry
    # only .dcai/<name>.sqlite files are served
    (root / "notes.sqlite").write_bytes(secret.read_bytes())
    for p in ("notes.sqlite", "proj/analysis.ipynb"):
        status, _ = server.api("iterations", path=p)
        assert status == 403, p
    status, _ = server.api("iterations", path="proj/.dcai/nope.sqlite")
    assert status == 404


def test_corrupt_files_give_a_clear_error_not_a_500(server, histories):
    folder = server.root / "broken"
    (folder / ".dcai").mkdir(parents=True)
    (folder / ".dcai" / "garbage.sqlite").write_bytes(b"this is not sqlite at all" * 10)
    with sqlite3.connect(folder / ".dcai" / "other.sqlite") as conn:
        conn.execute("CREATE TABLE t (x)")
    make_history(folder, "truncated", 30)
    t = folder / ".dcai" / "truncated.sqlite"
    data = t.read_bytes()
    t.write_bytes(data[: len(data) // 3])
    for wal in folder.joinpath(".dcai").glob("truncated.sqlite-*"):
        wal.unlink()
    make_history(folder, "good", 1)

    status, body = server.api("histories", notebook="broken/nb.ipynb")
    assert status == 200, body
    by_file = {h["file"]: h for h in body["histories"]}
    assert by_file["good.sqlite"]["error"] is None and by_file["good.sqlite"]["head"] == 2
    for f in ("garbage.sqlite", "other.sqlite", "truncated.sqlite"):
        err = by_file[f]["error"]
        assert err and f in err, (f, err)
        assert "Traceback" not in err
    for f in ("garbage.sqlite", "other.sqlite", "truncated.sqlite"):
        status, body = server.api("iterations", path=f"broken/.dcai/{f}")
        assert status == 422, (f, status, body)
        assert f in body["message"] and "Traceback" not in json.dumps(body), body
        assert not body.get("traceback"), body


def test_reading_never_writes_the_history(server, histories):
    folder = server.root / "ro"
    folder.mkdir()
    make_history(folder, "ro", 5)
    dcai = folder / ".dcai"

    def snapshot() -> dict[str, str]:
        # The data file and its write-ahead log; "-shm" is SQLite's shared-memory lock index,
        # which every reader of a WAL database uses, read-only ones included.
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(dcai.iterdir())
            if not p.name.endswith("-shm")
        }

    before = snapshot()
    mtime = (dcai / "ro.sqlite").stat().st_mtime_ns
    for ep, params in (
        ("histories", {"notebook": "ro/nb.ipynb"}),
        ("iterations", {"path": "ro/.dcai/ro.sqlite"}),
        ("iteration", {"path": "ro/.dcai/ro.sqlite", "iteration": 2}),
        ("changes", {"path": "ro/.dcai/ro.sqlite"}),
        ("cell", {"notebook": "ro/nb.ipynb", "cell_id": "cell-1"}),
    ):
        status, body = server.api(ep, **params)
        assert status == 200, (ep, body)
    assert snapshot() == before
    assert (dcai / "ro.sqlite").stat().st_mtime_ns == mtime


# ---------------------------------------------------------------------- layering
def test_server_extension_imports_core_only():
    """The import contract of dcai_jupyter._server: core (and Jupyter), never ops/widgets."""
    for py in SERVER_DIR.glob("*.py"):
        tree = ast.parse(py.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("dcai_jupyter"):
                    assert name == "dcai_jupyter.core" or name.startswith("dcai_jupyter.core."), (
                        f"{py.name} imports {name}: the server extension may import core only"
                    )
                assert not name.startswith(("sklearn", "anywidget", "ipywidgets", "IPython")), (
                    f"{py.name} imports {name}"
                )
    code = (
        "import sys\n"
        "import dcai_jupyter._server as s, dcai_jupyter._server._handlers, "
        "dcai_jupyter._server._read\n"
        "s._jupyter_server_extension_points()\n"
        "bad = [m for m in ('sklearn', 'anywidget', 'ipywidgets', 'dcai_jupyter.ops', "
        "'dcai_jupyter.widgets') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------- reader, in process
def test_an_append_recounts_only_new_iterations_and_matches_a_full_read(tmp_path, monkeypatch):
    from dcai_jupyter._server import _read
    from dcai_jupyter.core import History

    ds = make_history(tmp_path, "inc", 4)
    path = tmp_path / ".dcai" / "inc.sqlite"
    reader = _read.HistoryReader()
    first = reader.summary(path)
    assert first.recounted == 4  # every iteration is new
    assert reader.summary(path) is first  # unchanged file: the cached summary
    reads: list[int] = []
    real = History.change_summaries

    def counting(self, *, after=0):
        out = real(self, after=after)
        reads.append(len(out))
        return out

    monkeypatch.setattr(History, "change_summaries", counting)

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with as_cell("cell-single", 50, "ds.relabel(...)"):
            ds.relabel([int(ds.ids[0])], [other(ds.take([int(ds.ids[0])])["label"].iloc[0])])
            ds.relabel([int(ds.ids[1])], [other(ds.take([int(ds.ids[1])])["label"].iloc[0])])
        after_single = reader.summary(path)
        assert after_single.recounted == 1  # one new iteration
        assert reads == [2]  # only the two new changes were read
        with as_cell("cell-mixed", 51, "ds.remove(...)"):
            ds.remove([int(ds.ids[2])])
            ds.relabel([int(ds.ids[3])], [other(ds.take([int(ds.ids[3])])["label"].iloc[0])])
    finally:
        os.chdir(cwd)
    after_mixed = reader.summary(path)
    assert after_mixed.recounted == 1
    assert reads == [2, 2]

    full = _read._summarize(path, "fresh", None)
    assert after_mixed.iterations == full.iterations
    assert after_mixed.cells == full.cells
    assert after_mixed.iterations[0]["ops"] == {
        "remove": {"changes": 1, "rows": 1},
        "relabel": {"changes": 1, "rows": 1},
    }
    assert after_mixed.iterations[1]["ops"] == {"relabel": {"changes": 2, "rows": 2}}
    truth = ds.history.changes
    assert sum(it["n_changes"] for it in full.iterations) == len(truth)


def _notebook_with_cells(path: Path, cell_ids: list[str]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"# {cid}") for cid in cell_ids]
    for cell, cid in zip(nb.cells, cell_ids, strict=True):
        cell["id"] = cid
    path.write_text(nbformat.writes(nb))


def test_the_active_notebooks_histories_come_first_and_cells_name_their_notebook(server):
    folder = server.root / "two"
    folder.mkdir()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        for name, cells in (("alpha", ["a-1", "a-2"]), ("zeta", ["z-1"])):
            ds = dj.Dataset(frame(30), label="label", name=name)
            for k, cid in enumerate(cells):
                with as_cell(cid, k + 1, "ds.remove(...)"):
                    ds.remove([int(ds.ids[0])])
    finally:
        os.chdir(cwd)
    _notebook_with_cells(folder / "first.ipynb", ["a-1", "a-2", "x"])
    _notebook_with_cells(folder / "second.ipynb", ["z-1"])

    _, body = server.api("histories", notebook="two/second.ipynb")
    # the active notebook's history first (zeta), then the others by name
    assert [(h["name"], h["active"]) for h in body["histories"]] == [
        ("zeta", True),
        ("alpha", False),
    ]
    assert body["notebook"] == "two/second.ipynb"
    by_name = {h["name"]: h for h in body["histories"]}
    assert by_name["alpha"]["notebooks"] == ["two/first.ipynb"]
    assert by_name["zeta"]["notebooks"] == ["two/second.ipynb"]
    # where each cell that changed data lives: the panel opens that notebook at it
    assert body["cell_notebook"] == {
        "a-1": "two/first.ipynb",
        "a-2": "two/first.ipynb",
        "z-1": "two/second.ipynb",
    }
    _, body = server.api("histories", notebook="two/first.ipynb")
    assert [(h["name"], h["active"]) for h in body["histories"]] == [
        ("alpha", True),
        ("zeta", False),
    ]
    # a notebook that made none of them: by name, none marked
    _notebook_with_cells(folder / "third.ipynb", ["q"])
    _, body = server.api("histories", notebook="two/third.ipynb")
    assert [(h["name"], h["active"]) for h in body["histories"]] == [
        ("alpha", False),
        ("zeta", False),
    ]
    # the folder itself (no notebook): nothing is active
    _, body = server.api("histories", notebook="two")
    assert body["notebook"] is None and not any(h["active"] for h in body["histories"])


def test_a_read_that_hangs_never_blocks_the_server(server: Server):
    """Every read runs on a worker thread: a notebook file that blocks on open (a FIFO
    nobody writes) stalls its own request, while the server keeps answering others."""
    import threading

    folder = server.root / "stuck"
    (folder / ".dcai").mkdir(parents=True)
    fifo = folder / "blocked.ipynb"
    os.mkfifo(fifo)
    result: dict[str, Any] = {}

    def slow() -> None:
        result["histories"] = server.api("histories", notebook="stuck/blocked.ipynb")

    t = threading.Thread(target=slow, daemon=True)
    t.start()
    try:
        # the stalled request is waiting on the FIFO; the event loop still serves
        for _ in range(3):
            assert server.get("/api/status")["started"]
            status, body = server.api("stamp", notebook="stuck/blocked.ipynb")
            assert status == 200 and "stamp" in body
        assert t.is_alive(), "the histories request should be waiting on the FIFO"
    finally:
        # release the reader: open the FIFO for writing, write nothing, close it
        fd = os.open(fifo, os.O_WRONLY)
        os.close(fd)
        t.join(timeout=30)
    assert result["histories"][0] == 200
