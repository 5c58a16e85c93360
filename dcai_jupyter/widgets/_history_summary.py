"""What the HistoryView shows about a dataset's history: one entry per iteration (its
operations and row counts, the class counts at its end, the metrics measured on its
versions), kept up to date incrementally and paged to the timeline as JSON.

It reads the history through its public reads only: the iteration log
(``History.iteration_log``), the recorded changes (``History.store.raw_changes``) and the
metrics (``History.metrics``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._protocol import ProtocolError

__all__ = ["CODE_CLAMP", "HistorySummary"]

#: cell code shown per entry (the rest on request)
CODE_CLAMP = 600

_KIND_WORDS = {
    "relabeled": "relabeled",
    "updated": "updated",
    "removed": "removed",
    "added": "added",
}


def _change_counts(deltas: Any, label: str) -> tuple[dict[str, int], dict[Any, int]]:
    """Rows per kind, and the change of class counts, of one change (a compact one-row label
    set is an ``(id, old, new)`` tuple)."""
    if isinstance(deltas, tuple):
        o, n = _key(deltas[1]), _key(deltas[2])
        return {"relabeled": 1}, ({o: -1, n: 1} if o != n else {})
    counts: dict[str, int] = {}
    classes: dict[Any, int] = {}

    def bump(store: dict[Any, int], key: Any, n: int) -> None:
        store[key] = store.get(key, 0) + n

    for d in deltas:
        t_ = d["t"]
        if t_ == "dt":
            continue  # a dtype change (a label column became nullable) touches no row
        n = len(d["i"])
        if t_ == "set":
            if "c" in d:
                bump(counts, "updated", n)
                continue
            bump(counts, "relabeled", n)
            for o, v in zip(d["o"], d["n"], strict=True):
                bump(classes, _key(o), -1)
                bump(classes, _key(v), 1)
        else:
            kind = "removed" if t_ == "del" else "added"
            bump(counts, kind, n)
            sign = -1 if t_ == "del" else 1
            for v in d["r"].get(label, []):
                bump(classes, _key(v), sign)
    return counts, classes


def _key(v: Any) -> Any:
    """A class value as a dict key (encoded values may be dicts or lists; None for missing)."""
    if isinstance(v, dict) and set(v) in ({"$na"}, {"$nat"}):
        return None  # an encoded missing label (a pool row)
    if isinstance(v, (dict, list)):
        return repr(v)
    try:
        if pd.isna(v):
            return None  # NaN, None, pd.NA: a missing label (a pool row)
    except (TypeError, ValueError):
        pass
    return v


class HistorySummary:
    """Everything the view shows about the history at one dataset version (kernel side).

    Kept up to date incrementally: ``update(ds)`` reads only the changes recorded since
    the last update (core's :class:`IterationLog` says which iteration made each), so a
    click in a long history costs the view one change, not the whole history.
    """

    def __init__(self, ds: Any) -> None:
        h = ds.history
        self.label = label = ds.label
        self.version = int(ds.version)
        self._log = h.iteration_log()  # read up to the head
        head = self._log.head
        changes = h.store.raw_changes(1, head) if head else []
        per_change = [_change_counts(c, label) for c in changes]
        ops = self._log.ops(1, head)
        # class counts now, walked back to the base
        cur = pd.Series(np.asarray(ds.column(label), dtype=object)).value_counts(dropna=False)
        counts_now = {_key(k): int(v) for k, v in cur.items()}
        base = dict(counts_now)
        for _, cls in per_change:
            for k, n in cls.items():
                base[k] = base.get(k, 0) - n
        self._running = dict(base)
        self.entries: list[dict[str, Any]] = [
            {
                "iteration": 0,
                "first": 0,
                "last": 0,
                "n_changes": 0,
                "source": "base",
                "title": "base data",
                "code": None,
                "started": None,
                "ops": [],
                "counts": {},
                "rows": int(sum(base.values())),
                "classes": {k: v for k, v in base.items() if v},
                "metrics": {},
            }
        ]
        self._stats: dict[int, dict[str, dict[str, Any]]] = {}
        self._totals: dict[int, dict[str, int]] = {}
        self._seen = 0
        self._extend(per_change, ops)
        self._read_metrics(h)

    def update(self, ds: Any) -> None:
        """Follow the dataset to its current version, reading only the new changes."""
        h = ds.history
        self.version = int(ds.version)
        self._log.refresh()
        if self._log.head > self._seen:
            head = self._log.head
            changes = h.store.raw_changes(self._seen + 1, head)
            ops = self._log.ops(self._seen + 1, head)
            self._extend([_change_counts(c, self.label) for c in changes], ops)
        self._read_metrics(h)

    def _extend(self, per_change: list[Any], ops: list[str]) -> None:
        """Add the changes after ``self._seen`` (their counts and ops, in order)."""
        owner = self._log.owners()
        its = {it.number: it for it in self._log.iterations}
        for (counts, cls), op in zip(per_change, ops, strict=True):
            v = self._seen + 1
            k_it = int(owner[v])
            st = self._stats.setdefault(k_it, {}).setdefault(op, {"op": op, "n": 0, "counts": {}})
            st["n"] += 1
            total = self._totals.setdefault(k_it, {})
            for k, n in counts.items():
                st["counts"][k] = st["counts"].get(k, 0) + n
                total[k] = total.get(k, 0) + n
            for k, n in cls.items():
                self._running[k] = self._running.get(k, 0) + n
            self._seen = v
            # the class counts at the end of the iteration (every iteration the new changes
            # touch ends at one of them: its last version is the newest read)
            if its[k_it].last_version == v:
                self._snapshot(its[k_it])
        self.owner = owner

    def _snapshot(self, it: Any) -> None:
        classes = dict(self._running)
        started = pd.Timestamp(it.started_ms, unit="ms", tz="UTC")
        entry = {
            "iteration": it.number,
            "first": it.first_version,
            "last": it.last_version,
            "n_changes": it.n_changes,
            "source": it.source,
            "title": _source_title(it),
            "code": it.code,
            "execution_count": it.execution_count,
            "cell_id": it.cell_id,
            "widget": it.widget,
            "started": started.isoformat(timespec="seconds"),
            "ops": list(self._stats.get(it.number, {}).values()),
            "counts": self._totals.get(it.number, {}),
            "rows": int(sum(classes.values())),
            "classes": {k: v for k, v in classes.items() if v},
            "metrics": {},
        }
        # entries[k] is iteration k; iterations interleave, so a later one may end first
        while len(self.entries) <= it.number:
            self.entries.append({"metrics": {}})
        entry["metrics"] = self.entries[it.number]["metrics"]
        self.entries[it.number] = entry

    def _read_metrics(self, h: Any) -> None:
        # metrics by iteration: the iteration of the version they were measured on
        metrics = self.metrics = h.metrics
        owner = self.owner
        by_it: dict[int, dict[str, float]] = {}
        for mv, name, value in zip(
            metrics["version"], metrics["name"], metrics["value"], strict=True
        ):
            if 0 <= int(mv) < len(owner):
                by_it.setdefault(int(owner[int(mv)]), {})[str(name)] = float(value)
        for k, e in enumerate(self.entries):
            e["metrics"] = by_it.get(k, {})

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, iteration: int) -> dict[str, Any]:
        if not 0 <= iteration < len(self.entries):
            raise ProtocolError(
                f"no iteration {iteration}; this history has iterations 0..{len(self.entries) - 1}"
            )
        return self.entries[iteration]

    def page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """Entries newest first, ``offset .. offset + limit``, as JSON."""
        n = len(self.entries)
        lo, hi = max(0, n - offset - limit), max(0, n - offset)
        out = []
        for e in reversed(self.entries[lo:hi]):
            code = e.get("code")
            out.append(
                {
                    "iteration": e["iteration"],
                    "first": e["first"],
                    "last": e["last"],
                    "n_changes": e["n_changes"],
                    "source": e["source"],
                    "title": e["title"],
                    "code": None if code is None else code[:CODE_CLAMP],
                    "code_clamped": bool(code and len(code) > CODE_CLAMP),
                    "started": e["started"],
                    "summary": _ops_text(e["ops"]),
                    "rows": e["rows"],
                    "metrics": {k: v for k, v in sorted(e["metrics"].items())},
                }
            )
        return out


def _source_title(row: Any) -> str:
    src = str(row.source)
    n = row.execution_count
    if src == "cell":
        return f"cell [{int(n)}]" if n is not None and not pd.isna(n) else "cell"
    if src == "widget":
        # the cell that displayed the widget (recorded since widget edits carry it)
        where = f" in cell [{int(n)}]" if n is not None and not pd.isna(n) else ""
        return f"{row.widget or 'widget'} session{where}"
    if src == "callback":
        return "widget callback"
    return {"api": "script", "cli": "command line", "recipe": "recipe replay"}.get(src, src)


def _ops_text(ops: list[dict[str, Any]]) -> str:
    parts = []
    for st in ops:
        kinds = ", ".join(f"{_KIND_WORDS.get(k, k)} {n}" for k, n in st["counts"].items())
        times = f" ×{st['n']}" if st["n"] > 1 else ""
        parts.append(f"{st['op']}{times}" + (f" ({kinds})" if kinds else ""))
    return " · ".join(parts)
