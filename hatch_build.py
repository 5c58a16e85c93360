"""Build the widget front end (js/ -> dcai_jupyter/static/) as part of the package build."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class JSBuildHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if os.environ.get("DCAI_SKIP_JS") == "1":
            # Python-only development: the widgets then need a separate `npm run build` in js/.
            return
        root = Path(self.root)
        js = root / "js"
        if not (js / "package.json").exists():
            return
        npm = shutil.which("npm")
        if npm is None:
            built = root / "dcai_jupyter" / "static"
            if all((built / f).is_file() for f in ("grid.js", "editor.js", "widgets.css")):
                # e.g. a wheel built from an sdist that already carries the bundle
                self.app.display_warning("npm not found: using the already built js bundle")
                return
            raise RuntimeError(
                "npm is needed to build the widget front end (js/); install Node.js 20+"
            )
        if not (js / "node_modules").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=js, check=True)
        subprocess.run([npm, "run", "build"], cwd=js, check=True)
