"""``Findings``: what a find step found, in one schema every family and every widget shares.

A frame indexed by sample id with declared column roles:

- ``score``: float, higher = more suspicious (or more worth a look);
- ``flag``: bool, the samples the operation proposes to act on;
- ``suggestion`` (optional): what to do per sample; what it holds depends on ``action``:
  a label (``action="relabel"``), or nothing to hold for ``"remove"``/``"label"``;
- ``group`` (optional): a group id (duplicates), with ``keeper`` (optional bool) marking the
  member a group keeps;
- ``reason`` (optional): a short text saying why the sample was found.

The roles are declared by the operation that made the findings, never guessed from column
names, so a grid or an editor can show any family's findings.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

ROLES = ("score", "flag", "suggestion", "group", "keeper", "reason")
#: what accepting a finding does: set the suggested label, remove the sample, or ask a
#: person for a label (an unlabeled pool row)
ACTIONS = ("relabel", "remove", "label", "review")


class FindingsKey(NamedTuple):
    """The identity of a find step's findings: its op, a digest of its JSON params and the
    dataset version it ran at. Findings made again with the same op, params and version
    (after a kernel restart, say) have the same key, so they share their review state;
    a subset (``findings.flagged``, ``findings.top(10)``) has its findings' key."""

    op: str
    params: str
    version: int | None

    def __str__(self) -> str:
        at = "" if self.version is None else f"@v{self.version}"
        return f"{self.op}{at}#{self.params}"


def params_digest(params: Mapping[str, Any]) -> str:
    """sha256 of JSON ``params`` with sorted keys (12 hex digits): equal params, equal digest."""
    text = json.dumps(dict(params), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class Findings:
    """What a find step found: one row per sample id, scored, flagged, with declared roles.

    Parameters
    ----------
    frame
        Indexed by sample id. Must hold the ``score`` and ``flag`` columns named in
        ``roles``; may hold the other roles and any extra columns.
    op
        The operation family's name (``label_issues``, ``duplicates``, ...).
    roles
        Column name per role (see ``ROLES``); ``score`` and ``flag`` are required.
    action
        What accepting a flagged finding does (see ``ACTIONS``).
    params
        The JSON parameters of the find step.
    version
        The dataset version the findings were computed at.

    Notes
    -----
    ``findings["col"]``, ``findings.loc[...]``, ``len(findings)`` and other DataFrame reads
    go to the frame; a boolean mask or an id list in ``findings[...]`` gives a ``Findings``
    of those rows with the same roles.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        op: str,
        roles: Mapping[str, str],
        action: str = "review",
        params: Mapping[str, Any] | None = None,
        version: int | None = None,
    ) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"Findings need a DataFrame by sample id; got {type(frame).__name__}")
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}; roles are {ROLES}")
        for role in ("score", "flag"):
            if role not in roles:
                raise ValueError(f"Findings need a {role!r} column role")
        missing = {r: c for r, c in roles.items() if c not in frame.columns}
        if missing:
            raise KeyError(f"role columns {missing} are not in the frame ({list(frame.columns)})")
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}; got {action!r}")
        if not frame.index.is_unique:
            raise ValueError("Findings need one row per sample id; the index has duplicates")
        self._frame = frame
        self.op = op
        self.roles = dict(roles)
        self.action = action
        self.params = dict(params or {})
        self.version = version
        # the flagged ids of the complete findings a find step returned (see ``by_rule``)
        self._rule_flags: str | None = None

    # ------------------------------------------------------------------ typed reads
    @property
    def key(self) -> FindingsKey:
        """``(op, params digest, version)``: what the review state of these findings is
        recorded under (see ``Dataset.reviews``)."""
        version = None if self.version is None else int(self.version)
        return FindingsKey(str(self.op), params_digest(self.params), version)

    @property
    def frame(self) -> pd.DataFrame:
        """The findings as a DataFrame by sample id (shared, do not edit in place)."""
        return self._frame

    def column(self, role: str) -> pd.Series | None:
        """The column playing ``role``, or None when these findings have no such role."""
        name = self.roles.get(role)
        return None if name is None else self._frame[name]

    @property
    def ids(self) -> np.ndarray:
        return self._frame.index.to_numpy()

    @property
    def scores(self) -> pd.Series:
        return self._frame[self.roles["score"]].astype(float)

    @property
    def flags(self) -> pd.Series:
        return self._frame[self.roles["flag"]].astype(bool)

    @property
    def flagged(self) -> Findings:
        """The flagged findings, most suspicious first."""
        return self._subset(self.flags.to_numpy()).sorted()

    def as_found(self) -> Findings:
        """These findings marked as the complete output of their find step.

        The operation's ``find`` marks what it returns; a subset a person or a call takes
        of them (``findings[mask]``, ``findings.top(5)``) keeps the mark but flags other
        samples, so :attr:`by_rule` tells the two apart.
        """
        self._rule_flags = self._flags_digest()
        return self

    @property
    def by_rule(self) -> bool:
        """Whether these flag exactly what their find step flagged (the operation's rule).

        False for a subset chosen by a person or a call, and for findings made outside a
        find step: acting on them is a *selection*, which recipe replay carries over by
        sample id instead of re-running the rule.
        """
        return self._rule_flags is not None and self._rule_flags == self._flags_digest()

    def _flags_digest(self) -> str:
        ids = np.sort(np.asarray(self.ids[self.flags.to_numpy(dtype=bool)], dtype=np.int64))
        return hashlib.sha256(ids.tobytes()).hexdigest()[:16]

    def sorted(self) -> Findings:
        """Most suspicious first (score descending; ties by sample id)."""
        order = np.lexsort((self._frame.index.to_numpy(), -self.scores.to_numpy()))
        return self._with(self._frame.iloc[order])

    def top(self, n: int) -> Findings:
        """The ``n`` most suspicious findings."""
        return self._with(self.sorted()._frame.iloc[: int(n)])

    def summary(self) -> dict[str, Any]:
        """Counts and a digest, as recorded in the history's event for the find step."""
        flags = self.flags
        s = self.sorted()
        out: dict[str, Any] = {
            "n": len(self),
            "n_flagged": int(flags.sum()),
            "digest": self.digest(),
            "top_ids": [int(i) for i in s.ids[:20]],
        }
        g = self.column("group")
        if g is not None:
            out["n_groups"] = int(g.dropna().nunique())
        return out

    def digest(self) -> str:
        """sha256 of the ids, scores and flags (16 hex digits): the same findings, the same digest."""
        h = hashlib.sha256()
        h.update(np.asarray(self.ids, dtype=np.int64).tobytes())
        h.update(np.round(self.scores.to_numpy(dtype=float), 12).tobytes())
        h.update(self.flags.to_numpy(dtype=bool).tobytes())
        return h.hexdigest()[:16]

    # ------------------------------------------------------------------ frame access
    def _with(self, frame: pd.DataFrame) -> Findings:
        out = Findings(
            frame,
            op=self.op,
            roles=self.roles,
            action=self.action,
            params=self.params,
            version=self.version,
        )
        out._rule_flags = self._rule_flags
        return out

    def _subset(self, key: Any) -> Findings:
        if isinstance(key, pd.Series) and key.dtype == bool:
            return self._with(self._frame[key.reindex(self._frame.index, fill_value=False)])
        arr = np.asarray(key)
        if arr.dtype == bool:
            return self._with(self._frame[arr])
        return self._with(self._frame.loc[list(arr)])

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str) or (isinstance(key, list) and all(isinstance(k, str) for k in key)):
            return self._frame[key]
        return self._subset(key)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._frame, name)

    def __len__(self) -> int:
        return len(self._frame)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._frame)

    def __contains__(self, key: Any) -> bool:
        return key in self._frame

    def to_frame(self) -> pd.DataFrame:
        return self._frame.copy()

    def __repr__(self) -> str:
        head = f"Findings({self.op!r}, {len(self)} samples, {int(self.flags.sum())} flagged)"
        return head + "\n" + repr(self._frame.head(10))

    def _repr_html_(self) -> str:
        # the op name, column names, ids and values may come from a shared history file
        caption = (
            f"<p><b>{html.escape(str(self.op))}</b>: {len(self)} samples, "
            f"{int(self.flags.sum())} flagged, most suspicious first</p>"
        )
        return caption + self.sorted()._frame.head(20).to_html(escape=True)


__all__ = ["ACTIONS", "ROLES", "Findings", "FindingsKey", "params_digest"]
