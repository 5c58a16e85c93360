"""Execute the example notebooks headless and fail on any output a reader would see as broken.

Used by ``scripts/demo.sh --headless``::

    python scripts/run_examples.py [NOTEBOOK ...]   # default: example_notebooks/*.ipynb

Each notebook is copied into a temporary folder and executed there by nbclient (the kernel
talks over IPC sockets in that folder, so it prints no "running over TCP without encryption"
warning). Then every output is checked; the exit status is 1 when any notebook has

- an error output (an exception; nbclient also stops at the first one),
- text on stderr (a warning box in JupyterLab),
- an HTML output that loads a script from the network (e.g. altair's default renderer,
  which shows "Error loading script" on a machine without internet),
- the text "Error loading script" anywhere.

What each notebook recorded is printed last, from its history files.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: an HTML output that fetches a script from another host (a CDN) to draw itself
REMOTE_SCRIPT = re.compile(
    r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//|cdn\.jsdelivr\.net|unpkg\.com|requirejs\.config",
    re.IGNORECASE,
)


def broken_outputs(nb: Any) -> list[str]:
    """What is wrong in the outputs of an executed notebook: one line per bad output."""
    problems: list[str] = []
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        n += 1
        where = f"code cell {n} (id {cell.get('id', '?')})"
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                problems.append(f"{where}: {out.get('ename')}: {out.get('evalue')}")
                continue
            if kind == "stream":
                text = str(out.get("text", ""))
                if out.get("name") == "stderr":
                    problems.append(f"{where}: stderr: {text.strip()[:300]}")
                elif "Error loading script" in text:
                    problems.append(f"{where}: {text.strip()[:300]}")
                continue
            data = out.get("data", {})
            html = data.get("text/html", "")
            html = "".join(html) if isinstance(html, list) else str(html)
            remote = REMOTE_SCRIPT.search(html)
            if remote:
                problems.append(
                    f"{where}: an HTML output loads a script from the network "
                    f"({remote.group(0)!r}): offline it shows 'Error loading script'"
                )
            elif "Error loading script" in html or "Error loading script" in str(
                data.get("text/plain", "")
            ):
                problems.append(f"{where}: 'Error loading script'")
    return problems


def execute(src: Path, work: Path) -> Any:
    """Copy ``src`` into ``work`` and execute it there; the executed notebook (also saved)."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    dst = work / src.name
    shutil.copy(src, dst)
    nb = nbformat.read(dst, as_version=4)
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(work / ".kernel-ipc"))
    client = NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(work)}})
    try:
        client.execute()
    finally:
        nbformat.write(nb, dst)
        if km.has_kernel:  # a manager passed in is the caller's to shut down
            km.shutdown_kernel(now=False)
    return nb


def main(argv: Iterable[str]) -> int:
    from nbclient.exceptions import CellExecutionError

    paths = [Path(p) for p in argv] or sorted((ROOT / "example_notebooks").glob("*.ipynb"))
    work = Path(tempfile.mkdtemp(prefix="dcai-demo-"))
    failed: list[str] = []
    for src in paths:
        try:
            nb = execute(src, work)
        except CellExecutionError as exc:
            first = str(exc).strip().splitlines()
            failed.append(f"{src.name}: a cell raised: {first[-1] if first else exc!r}")
            print(f"FAILED   {src.name}: a cell raised an error (see {work / src.name})")
            continue
        problems = broken_outputs(nb)
        if problems:
            failed += [f"{src.name}: {p}" for p in problems]
            print(f"FAILED   {src.name} -> {work / src.name}")
            for p in problems:
                print(f"         {p}")
        else:
            print(f"executed {src.name} -> {work / src.name}")
    import dcai_jupyter as dj

    for path in sorted((work / ".dcai").glob("*.sqlite")):
        h = dj.open_history(path)
        print(f"\n{path.name}: head version {h.head}")
        print(h.changes[["op", "n_rows", "source", "execution_count"]].to_string())
    if failed:
        print(f"\n{len(failed)} problem(s) in the notebooks' outputs:", file=sys.stderr)
        for f in failed:
            print(f"  {f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
