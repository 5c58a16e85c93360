"""The README's quickstart and replay snippets run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def test_readme_quickstart_and_replay_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    quick = next(b for b in blocks if "dj.Dataset(df" in b)
    replay = next(b for b in blocks if "dj.open_history" in b)
    ns: dict = {}
    exec(compile(quick, "README quickstart", "exec"), ns)
    ds = ns["ds"]
    assert ds.version == 5
    assert ds.history.changes["op"].tolist() == ["relabel", "remove", "add", "undo", "redo"]
    exec(compile(replay, "README replay", "exec"), ns)
    assert ns["h"].head == 5
