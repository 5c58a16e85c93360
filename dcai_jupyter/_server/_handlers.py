"""Read-only REST API of the Data history panel, under ``<base_url>/dcai/api/``.

Every handler is an authenticated ``APIHandler`` (no token: 403) authorized for reading
``contents``, takes API paths relative to the server's root directory, and refuses paths
that leave it (``..``, absolute paths, symlinks pointing outside). History files are opened
read-only through ``dcai_jupyter.core``; a file that cannot be read gives a JSON error
(422) that says which file and why, never a traceback.

Endpoints (all ``GET``)::

    stamp?notebook=P                  token that changes when a history beside P changes
    histories?notebook=P              the histories in .dcai/ beside P, and per-cell markers
    iterations?path=H&offset=&limit=  iterations of history H, newest first, paged
    iteration?path=H&iteration=N      one iteration's diff summary (its changes paged)
    changes?path=H&offset=&limit=     changes of history H, newest first, paged
    cell?notebook=P&cell_id=C         the newest changes that cell C made, in every history
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from . import _read

#: Largest page the API hands out.
MAX_LIMIT = 500
DEFAULT_LIMIT = 50

_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dcai-history")
_DRIVE = re.compile(r"^[A-Za-z]:")


class _Base(APIHandler):
    auth_resource = "contents"

    @property
    def reader(self) -> _read.HistoryReader:
        return self.settings["dcai_history_reader"]

    @property
    def root(self) -> Path:
        root = self.settings.get("server_root_dir") or os.getcwd()
        return Path(os.path.realpath(os.path.expanduser(str(root))))

    # ------------------------------------------------------------------ arguments
    def _int_arg(self, name: str, default: int, lo: int, hi: int | None = None) -> int:
        raw = self.get_argument(name, None)
        if raw is None:
            return default
        try:
            v = int(raw)
        except ValueError:
            raise web.HTTPError(400, f"{name} must be an integer, got {raw!r}") from None
        if v < lo or (hi is not None and v > hi):
            bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
            raise web.HTTPError(400, f"{name} must be {bound}, got {v}")
        return v

    def _paging(self) -> tuple[int, int]:
        return self._int_arg("offset", 0, 0), self._int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)

    # ------------------------------------------------------------------ paths
    def _inside(self, api_path: str, what: str) -> Path:
        """Resolve an API path under the root; 403 when it would leave the root."""
        if "\x00" in api_path:
            raise web.HTTPError(400, f"{what}: invalid path")
        if api_path.startswith(("/", "\\")) or _DRIVE.match(api_path) or os.path.isabs(api_path):
            raise web.HTTPError(
                403,
                f"{what} {api_path!r}: absolute paths are refused; give a path relative to "
                "the Jupyter root directory",
            )
        parts = re.split(r"[\\/]+", api_path)
        if ".." in parts:
            raise web.HTTPError(
                403, f"{what} {api_path!r}: '..' is refused; paths stay inside the Jupyter root"
            )
        root = self.root
        full = Path(os.path.realpath(root.joinpath(*[p for p in parts if p not in ("", ".")])))
        if full != root and root not in full.parents:
            raise web.HTTPError(
                403, f"{what} {api_path!r} leads outside the Jupyter root directory (a symlink?)"
            )
        return full

    def _api_path(self, full: Path) -> str:
        rel = full.relative_to(self.root)
        return str(PurePosixPath(*rel.parts)) if rel.parts else ""

    def _notebook_dir(self) -> Path:
        nb = self.get_argument("notebook", "")
        full = self._inside(nb, "notebook")
        if full.is_dir():
            return full
        if not full.parent.is_dir():
            raise web.HTTPError(404, f"notebook {nb!r}: no such folder")
        return full.parent

    def _history_path(self) -> Path:
        raw = self.get_argument("path", None)
        if not raw:
            raise web.HTTPError(400, "path is required: the history file, e.g. '.dcai/name.sqlite'")
        full = self._inside(raw, "history")
        if full.suffix != _read.HISTORY_SUFFIX or full.parent.name != _read.HISTORY_DIR:
            raise web.HTTPError(403, f"history {raw!r}: only .dcai/<name>.sqlite files are served")
        if not full.is_file():
            raise web.HTTPError(404, f"history {raw!r}: no such file")
        return full

    def _summary(self, path: Path) -> _read.Summary:
        try:
            return self.reader.summary(path)
        except _read.ReadError as exc:
            self.log.warning("dcai history: %s", exc)
            raise web.HTTPError(422, str(exc)) from None

    def _details(self, path: Path) -> _read.Details:
        try:
            return self.reader.details(path)
        except _read.ReadError as exc:
            self.log.warning("dcai history: %s", exc)
            raise web.HTTPError(422, str(exc)) from None

    # ------------------------------------------------------------------ the request
    @web.authenticated
    @authorized
    async def get(self) -> None:
        # Everything a request reads (paths, stamps, history files, notebooks) runs on a
        # worker thread: Jupyter's event loop never waits on a file or computes a page.
        # An HTTPError raised there is sent as JSON by APIHandler, like any other.
        data = await asyncio.get_running_loop().run_in_executor(_EXECUTOR, self._respond)
        self._send(data)

    def _respond(self) -> Any:  # pragma: no cover - per endpoint
        raise NotImplementedError

    def _send(self, data: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(data, separators=(",", ":"), allow_nan=False))


class StampHandler(_Base):
    def _respond(self) -> Any:
        folder = self._notebook_dir()
        return {"stamp": _read.dir_stamp(folder)}


class HistoriesHandler(_Base):
    def _respond(self) -> Any:
        folder = self._notebook_dir()
        stamp = _read.dir_stamp(folder)
        root = self.root
        histories: list[dict[str, Any]] = []
        cells: dict[str, dict[str, Any]] = {}
        for p in _read.history_files(folder):
            real = Path(os.path.realpath(p))
            api = self._api_path(folder / _read.HISTORY_DIR / p.name)
            if real != root and root not in real.parents:
                histories.append(
                    {"path": api, "file": p.name, "error": "refused: it links outside the root"}
                )
                continue
            entry = _read.history_entry(self.reader, real, api)
            histories.append(entry)
            if entry.get("error"):
                continue
            summary = self.reader.summary(real)  # cached by history_entry just now
            for cid, c in summary.cells.items():
                merged = cells.setdefault(cid, {"ops": {}, "n_changes": 0, "histories": []})
                for op, e in c["ops"].items():
                    m = merged["ops"].setdefault(op, {"changes": 0, "rows": 0})
                    m["changes"] += e["changes"]
                    m["rows"] += e["rows"]
                merged["n_changes"] += c["n_changes"]
                merged["histories"].append(entry["name"])
        # which notebook (saved beside the histories) holds each cell that changed data: the
        # active notebook's histories come first, and an iteration made by another notebook
        # opens that one
        nb_cells = _read.notebook_cells(folder)
        arg = self.get_argument("notebook", "")
        active = PurePosixPath(arg).name if arg.endswith(".ipynb") else None
        names = sorted(nb_cells, key=lambda n: (n != active, n))  # the active one wins ties
        cell_notebook: dict[str, str] = {}
        for cid in cells:
            where = next((n for n in names if cid in nb_cells[n]), None)
            if where is not None:
                cell_notebook[cid] = self._api_path(folder / where)
        for entry in histories:
            made_in = {
                cell_notebook[cid]
                for cid, c in cells.items()
                if cid in cell_notebook and entry.get("name") in c["histories"]
            }
            entry["notebooks"] = sorted(made_in)
            entry["active"] = active is not None and self._api_path(folder / active) in made_in
        histories.sort(key=lambda e: not e.get("active"))  # stable: by name within each
        return {
            "directory": self._api_path(folder),
            "stamp": stamp,
            "notebook": self._api_path(folder / active) if active else None,
            "histories": histories,
            "cells": cells,
            "cell_notebook": cell_notebook,
        }


class IterationsHandler(_Base):
    def _respond(self) -> Any:
        path = self._history_path()
        offset, limit = self._paging()
        s = self._summary(path)
        return {
            "path": self._api_path(path),
            "name": s.name or path.stem,
            "stamp": s.stamp,
            "head": s.head,
            "total": len(s.iterations),
            "offset": offset,
            "base_metrics": s.metrics.get(0, {}),
            "iterations": _read.page(s.iterations, offset, limit),
        }


class IterationHandler(_Base):
    def _respond(self) -> Any:
        path = self._history_path()
        number = self._int_arg("iteration", 0, 1)
        offset, limit = self._paging()
        s = self._summary(path)
        d = self._details(path)
        try:
            detail = _read.iteration_detail(s, d, number, offset=offset, limit=limit)
        except KeyError as exc:
            raise web.HTTPError(404, str(exc.args[0])) from None
        try:
            detail["diff"] = _read.diff_summary(
                path, detail["version_before"], detail["version_after"]
            )
        except _read.ReadError as exc:
            detail["diff"] = None
            detail["diff_error"] = str(exc)
        return {"path": self._api_path(path), "name": s.name or path.stem, **detail}


class ChangesHandler(_Base):
    def _respond(self) -> Any:
        path = self._history_path()
        offset, limit = self._paging()
        s = self._summary(path)
        d = self._details(path)
        newest_first = d.changes[::-1]
        return {
            "path": self._api_path(path),
            "name": s.name or path.stem,
            "head": s.head,
            "total": len(d.changes),
            "offset": offset,
            "changes": _read.page(newest_first, offset, limit),
        }


class CellHandler(_Base):
    def _respond(self) -> Any:
        folder = self._notebook_dir()
        cell_id = self.get_argument("cell_id", "")
        if not cell_id:
            raise web.HTTPError(400, "cell_id is required")
        root = self.root
        out: list[dict[str, Any]] = []
        for p in _read.history_files(folder):
            real = Path(os.path.realpath(p))
            if real != root and root not in real.parents:
                continue
            try:
                s = self.reader.summary(real)
                if cell_id not in s.cells:
                    continue
                d = self.reader.details(real)
            except _read.ReadError:
                continue
            for c in _read.cell_changes(d, cell_id):
                out.append({**c, "history": s.name or p.stem})
        out.sort(key=lambda c: str(c.get("time") or ""), reverse=True)
        return {"cell_id": cell_id, "changes": out[: _read.CELL_CHANGES_SHOWN]}


ROUTES = {
    "stamp": StampHandler,
    "histories": HistoriesHandler,
    "iterations": IterationsHandler,
    "iteration": IterationHandler,
    "changes": ChangesHandler,
    "cell": CellHandler,
}


def setup_handlers(web_app: Any) -> None:
    """Register the API under ``<base_url>/dcai/api/``.

    Parameters
    ----------
    web_app
        The Jupyter server's tornado application (``serverapp.web_app``); its settings
        get the shared ``HistoryReader`` cache.
    """
    web_app.settings.setdefault("dcai_history_reader", _read.HistoryReader())
    base = web_app.settings.get("base_url", "/")
    web_app.add_handlers(
        ".*$", [(url_path_join(base, "dcai", "api", name), h) for name, h in ROUTES.items()]
    )
