"""The column roles a dataset was made with, recorded in its history for a recipe replay.

``dj.Dataset(df, label=..., features=, text=, image=, ignore=, roles=)`` decides a role per
column (``ds.roles``) and the feature columns (``ds.feature_columns``); the recorded
operations read their features through them. A recipe replay from the history file alone
(``dcai replay --recipe``, ``replay_recipe`` without the source dataset) makes its dataset
with these recorded roles rather than detecting them again on the new data, where an
identifier brought back in with ``roles=``, a column left out with ``ignore=`` or a
``text=`` choice would be decided differently.

The setting is plain JSON data in the history's settings (``ROLES_SETTING``)::

    {"roles": {"column": "role", ...}, "features": ["column", ...]}

A history file is inert data: what is read back is checked (size, types, known roles) and
anything else is a :class:`ParamError` naming the setting. Nothing in it is ever run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..core._roles import ROLE_NAMES
from ._params import ParamError

__all__ = [
    "ROLES_MAX_CHARS",
    "ROLES_SETTING",
    "RecordedRoles",
    "record_roles",
    "recorded_roles",
]

#: the history setting that records a dataset's column roles
ROLES_SETTING = "column_roles"
#: the longest recorded value read back (characters of JSON): ample for tens of thousands
#: of columns, refused past it before parsing
ROLES_MAX_CHARS = 4_000_000
#: the roles a recorded column may have (``label`` is the recorded base's label column)
_ROLES = frozenset(r for r in ROLE_NAMES if r != "label")


@dataclass(frozen=True)
class RecordedRoles:
    """Column roles as recorded: ``roles`` (column -> role, the label left out) and
    ``features`` (the feature columns, in order)."""

    roles: dict[str, str]
    features: list[str]

    def for_columns(self, columns: list[str], label: str) -> tuple[dict[str, Any], list[str]]:
        """``Dataset`` keyword arguments giving the recorded roles to the columns of the new
        data, and the recorded columns the new data does not have (said in the result)."""
        have = set(columns) - {label}
        missing = [c for c in self.roles if c not in have]
        roles = {c: r for c, r in self.roles.items() if c in have}
        features = [c for c in self.features if c in have]
        return {"roles": roles, "features": features}, missing


def _value(ds: Any) -> str:
    label = ds.label
    roles = {str(c): str(r) for c, r in ds.roles.items() if c != label}
    features = [str(c) for c in ds.feature_columns if c != label]
    return json.dumps({"roles": roles, "features": features})


def record_roles(ds: Any) -> None:
    """Record ``ds``'s column roles and feature columns in its history's settings (no
    change or event is recorded; nothing written when the recorded value is the same)."""
    store = ds.history.store
    value = _value(ds)
    if store.setting(ROLES_SETTING) != value:
        store.set_setting(ROLES_SETTING, value)


def _short(v: Any) -> str:
    """A recorded value as shown in an error: its repr, cut short."""
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _refuse(what: str) -> ParamError:
    return ParamError(
        f"history setting {ROLES_SETTING!r} (the recorded column roles) {what}; the history "
        "file was edited or damaged: replay from a notebook with the source dataset, or "
        "repair the file"
    )


def recorded_roles(history: Any) -> RecordedRoles | None:
    """The column roles a history records (None: none recorded, e.g. a history written
    before they were).

    Raises
    ------
    ParamError
        The recorded value is not what :func:`record_roles` writes: too long, not JSON, of
        other types or keys, an unknown role, the label among the columns.
    """
    raw = history.store.setting(ROLES_SETTING)
    if raw is None:
        return None
    if len(raw) > ROLES_MAX_CHARS:
        raise _refuse(f"is {len(raw):,} characters long, past the {ROLES_MAX_CHARS:,} allowed")
    try:
        value = json.loads(raw)
    except RecursionError:
        raise _refuse("is nested too deeply") from None
    except ValueError as e:
        raise _refuse(f"is not JSON ({e})") from None
    if not isinstance(value, dict):
        raise _refuse(f"must be a JSON object; got {type(value).__name__}")
    if set(value) != {"roles", "features"}:
        got = ", ".join(_short(k) for k in sorted(value)[:5])
        raise _refuse(f"must have the keys 'roles' and 'features'; got ({got})")
    roles, features = value["roles"], value["features"]
    if not isinstance(roles, dict):
        raise _refuse(f"'roles' must be an object column -> role; got {type(roles).__name__}")
    bad = {c: r for c, r in roles.items() if not isinstance(r, str) or r not in _ROLES}
    if bad:
        shown = ", ".join(f"{_short(c)}: {_short(r)}" for c, r in list(bad.items())[:3])
        raise _refuse(f"has unknown roles ({shown}); a role is one of {sorted(_ROLES)}")
    if not isinstance(features, list) or not all(isinstance(c, str) for c in features):
        raise _refuse("'features' must be a list of column names")
    unknown = [c for c in features if c not in roles]
    if unknown:
        shown = ", ".join(_short(c) for c in unknown[:3])
        raise _refuse(f"lists features ({shown}) that have no recorded role")
    if len(set(features)) != len(features):
        raise _refuse("lists a feature column twice")
    label = (history.base or {}).get("label")
    if label is not None and label in roles:
        raise _refuse(f"gives the label column {_short(label)} a role")
    return RecordedRoles(roles=dict(roles), features=list(features))
