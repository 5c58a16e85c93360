"""Build the front ends as part of the package build.

- ``js/`` (the anywidget widgets) -> ``dcai_jupyter/static/`` with npm;
- ``labextension/`` (the JupyterLab / Notebook 7 "Data history" panel) ->
  ``dcai_jupyter/labextension/`` with jlpm (from the ``jupyter-builder`` build requirement),
  installed by the wheel's shared-data into ``share/jupyter/labextensions/dcai-jupyter``.

``DCAI_SKIP_JS=1`` skips both (Python-only work).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LABEXT_NAME = "dcai-jupyter"


class JSBuildHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        # DCAI_SKIP_JS=1 (Python-only work): the widgets then need a separate `npm run build`
        # in js/, the panel `jlpm build` in labextension/.
        if os.environ.get("DCAI_SKIP_JS") != "1":
            self._build_widgets(root)
            self._build_labextension(root)
        if self.target_name == "wheel":
            self._add_labextension(root, build_data)

    def _build_widgets(self, root: Path) -> None:
        js = root / "js"
        if not (js / "package.json").exists():
            return
        npm = shutil.which("npm")
        if npm is None:
            built = root / "dcai_jupyter" / "static"
            if all((built / f).is_file() for f in ("grid.js", "editor.js", "history_view.js", "widgets.css")):
                # e.g. a wheel built from an sdist that already carries the bundle
                self.app.display_warning("npm not found: using the already built js bundle")
                return
            raise RuntimeError(
                "npm is needed to build the widget front end (js/); install Node.js 20+"
            )
        if not (js / "node_modules").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=js, check=True)
        subprocess.run([npm, "run", "build"], cwd=js, check=True)

    def _build_labextension(self, root: Path) -> None:
        src = root / "labextension"
        out = root / "dcai_jupyter" / "labextension"
        if not (src / "package.json").exists():
            return
        if shutil.which("node") is None:
            if (out / "package.json").is_file():
                self.app.display_warning("node not found: using the already built lab extension")
                return
            raise RuntimeError(
                "Node.js (^20.19 or >=22.12) is needed to build the JupyterLab extension "
                "(labextension/); install it, or set DCAI_SKIP_JS=1 for Python-only work"
            )
        env = dict(os.environ)
        # jlpm and jupyter-builder come from the build requirement `jupyter-builder`; in an
        # isolated build their scripts sit beside this interpreter or on pip's PATH.
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        jlpm_exe = shutil.which("jlpm", path=env["PATH"])
        jlpm = (
            [jlpm_exe]
            if jlpm_exe
            else [
                sys.executable,
                "-c",
                "import sys; from jupyter_builder.jlpm import main; sys.exit(main())",
            ]
        )
        state = src / ".yarn" / "install-state.gz"  # rewritten by every `jlpm install`
        lock = src / "yarn.lock"
        installed = (src / "node_modules").is_dir() and state.exists()
        if not installed or (lock.exists() and lock.stat().st_mtime > state.stat().st_mtime):
            # a fresh clone, or a yarn.lock newer than the installed modules (e.g. after a pull)
            subprocess.run([*jlpm, "install", "--immutable"], cwd=src, env=env, check=True)
        # Always rebuild (incremental, a few seconds): a stale bundle must never ship.
        subprocess.run([*jlpm, "run", "build"], cwd=src, env=env, check=True)

    def _add_labextension(self, root: Path, build_data: dict[str, Any]) -> None:
        """Ship the built extension (when there is one) and its install.json as shared data.

        Added here rather than in pyproject's static shared-data so that a DCAI_SKIP_JS=1
        build of a fresh clone (no built extension) still succeeds.
        """
        out = root / "dcai_jupyter" / "labextension"
        if not (out / "package.json").is_file():
            self.app.display_warning(
                "the JupyterLab extension is not built (DCAI_SKIP_JS=1?): the wheel has no "
                "Data history panel; run `jlpm build` in labextension/ and reinstall"
            )
            return
        dest = f"share/jupyter/labextensions/{LABEXT_NAME}"
        shared = build_data.setdefault("shared_data", {})
        shared[str(out)] = dest
        shared[str(root / "labextension" / "install.json")] = f"{dest}/install.json"
