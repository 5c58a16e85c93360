"""History's internals stay inside it: no module uses a private member of a History class
outside the file that defines it.

The History classes' private member names are collected by introspection (class
attributes, slots and the attributes of live instances), so a private attribute added
later is covered without editing this test. Every ``x._name`` in ``dcai_jupyter/`` with
such a name is then a failure outside the defining file, unless ``x`` is ``self``/``cls``
of a class that is not a History class's subclass (it is that class's own member), or the
file defines a private member of that name itself (``_lock`` of a Dataset, say).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pandas as pd

import dcai_jupyter as dj
from dcai_jupyter.core import Provenance
from dcai_jupyter.core._dataset_history import DatasetHistory
from dcai_jupyter.core._history import History
from dcai_jupyter.core._history_store import HistoryStore, Transaction
from dcai_jupyter.core._reviews import ReviewState

PACKAGE = Path(dj.__file__).parent
HISTORY_CLASSES: tuple[type, ...] = (
    History,
    HistoryStore,
    Transaction,
    ReviewState,
    DatasetHistory,
)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _live_instances() -> list[object]:
    """One of each History class, used a little (so lazily set attributes exist too)."""
    df = pd.DataFrame({"x": np.arange(6.0), "label": ["a", "b"] * 3})
    ds = dj.Dataset(df, label="label")
    ds.relabel([0], ["b"])
    h = ds.history.history
    h.reviews()
    h.metrics  # noqa: B018
    with h.store.transaction(Provenance("test", "api")) as txn:
        pass
    parts = [v for v in vars(h).values() if isinstance(v, HISTORY_CLASSES)]
    return [h, h.store, txn, ds.history, *parts]


def private_members() -> dict[str, set[Path]]:
    """Private member name -> the files of the History classes that define it."""
    out: dict[str, set[Path]] = {}

    def add(name: str, cls: type) -> None:
        if _private(name):
            out.setdefault(name, set()).add(Path(inspect.getsourcefile(cls) or ""))

    for cls in HISTORY_CLASSES:
        for klass in cls.__mro__:
            if klass is object or not klass.__module__.startswith("dcai_jupyter"):
                continue
            for name in vars(klass):
                add(name, klass)
            for name in getattr(klass, "__slots__", ()):
                add(name, klass)
    for obj in _live_instances():
        for name in getattr(obj, "__dict__", {}):
            add(name, type(obj))
    return out


def _own_private_names(tree: ast.Module) -> set[str]:
    """Private names the file defines itself: class attributes, slots, ``self.x = ...``."""
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                targets = (
                    stmt.targets
                    if isinstance(stmt, ast.Assign)
                    else [stmt.target]
                    if isinstance(stmt, ast.AnnAssign)
                    else []
                )
                own.update(t.id for t in targets if isinstance(t, ast.Name))
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    own.add(stmt.name)
                if isinstance(stmt, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "__slots__" for t in stmt.targets
                ):
                    own.update(
                        c.value
                        for c in ast.walk(stmt.value)
                        if isinstance(c, ast.Constant) and isinstance(c.value, str)
                    )
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if (
                    isinstance(t, ast.Attribute)
                    and isinstance(t.value, ast.Name)
                    and t.value.id == "self"
                ):
                    own.add(t.attr)
    return {n for n in own if _private(n)}


def _history_subclasses() -> set[str]:
    """Names of the classes that inherit from a History class (their ``self`` is one)."""
    seen: set[str] = set()
    todo = list(HISTORY_CLASSES)
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__name__ not in seen:
                seen.add(sub.__name__)
                todo.append(sub)
    return seen


def private_uses(paths: list[Path]) -> list[str]:
    """``file:line: .name`` of every use of a History class's private member in ``paths``
    outside the file that defines it."""
    members = private_members()
    subclasses = _history_subclasses()
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = _own_private_names(tree)
        inside_subclass: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in subclasses:
                inside_subclass.update(id(n) for n in ast.walk(node))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or node.attr not in members:
                continue
            if path.resolve() in {p.resolve() for p in members[node.attr]}:
                continue
            receiver = node.value
            on_self = isinstance(receiver, ast.Name) and receiver.id in ("self", "cls")
            if on_self and id(node) not in inside_subclass:
                continue  # the file's own class's member of the same name
            if not on_self and node.attr in own:
                continue  # the file defines a private member of that name itself
            where = path.relative_to(PACKAGE.parent) if path.is_relative_to(PACKAGE) else path.name
            found.append(f"{where}:{node.lineno}: .{node.attr}")
    return found


def test_the_introspection_sees_the_private_members():
    members = private_members()
    # the store's own state, which nobody else may touch
    assert {"_conn", "_lock", "_prov_ids", "_superseded", "_rows", "_db_error"} <= set(members)
    assert {"_store", "_review_state", "_h", "_ds"} <= set(members)
    assert not any(_private(n) for n in ("__init__", "store", "append"))


def test_no_private_history_member_is_used_outside_its_own_file():
    uses = private_uses(sorted(PACKAGE.rglob("*.py")))
    assert uses == [], (
        "private members of History classes used outside their own file (name the public "
        "interface they need on HistoryStore/History instead):\n" + "\n".join(uses)
    )


def test_the_rule_catches_a_private_use(tmp_path):
    # the check itself: a module that reaches into the store, or a subclass of the dataset's
    # view that reads the view's state, is reported; its own class's members are not
    probe = tmp_path / "probe.py"
    probe.write_text(
        "class Own:\n"
        "    def __init__(self):\n"
        "        self._conn = None\n"
        "    def f(self, h):\n"
        "        return self._conn, h.store._rows(1, 2), h._store\n"
        "class RecipeHistory(DatasetHistory):\n"
        "    def g(self):\n"
        "        return self._h\n",
        encoding="utf-8",
    )
    assert sorted(private_uses([probe])) == [
        "probe.py:5: ._rows",
        "probe.py:5: ._store",
        "probe.py:8: ._h",
    ]
