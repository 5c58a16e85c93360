"""Recipe replay: re-run a history's recorded changes on new data (next month's export).

Three kinds of recorded change, three ways to carry them over:

- **operations by rule** (a registered op whose params hold ``"operation"``, e.g.
  ``accept_suggestions`` of everything flagged, ``synthesize``): rebuilt from the registry
  and re-run with their recorded parameters on the new data (``Operation.replay``: find
  again, then plan); whether the findings equal the recorded ones is reported;
- **operations on a selection** (``ids=``, ``groups=``, ``top=``, a subset of findings:
  ``params["selection"]`` holds the ids acted on with a content hash each): the rule's
  ``find`` is re-run (its findings are in ``RecipeResult.findings``), and what the change
  did is carried over by sample id to the selected samples whose content is unchanged;
  the others are listed for review. Never another sample, never all flagged rows;
- **human decisions** (``relabel``, ``remove``, ``update``, ``add`` and any other change a
  person made from a cell or a widget): carried over by sample id where the sample is
  unchanged, i.e. its content hash in the new data equals its content hash when the
  decision was made; where the sample changed or is gone the decision is listed for review.

Undo, redo and revert are followed: a change undone or reverted in the history is skipped
(with that reason), as are the undo/redo/revert changes themselves. Every recorded change
lands in ``applied``, ``skipped`` (with a reason) or ``needs_review``: nothing is dropped
silently. The replayed dataset records everything with provenance source ``recipe`` and
an event ``replay_recipe`` naming the history it came from. Its columns get the roles the
recorded ones had (the source dataset's, else the history's recorded setting, see
``_roles_setting``), so the re-run operations read the same features.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..core import Dataset, History, _codec
from ..core._provenance import source as provenance_source
from ..core._recipe_steps import (
    RecordedChange,
    StateWalker,
    effective_changes,
    recorded_changes,
)
from ._base import get_operation
from ._carry_over import CarryOver
from ._params import ParamError
from ._progress import progress_bar
from ._recipe_result import (
    APPLIED_COLUMNS,
    SKIPPED_COLUMNS,
    RecipeResult,
    result_frame,
    review_frame,
)
from ._roles_setting import record_roles, recorded_roles
from ._text_vectors import recorded_embed, resolve_embed, set_embed

__all__ = ["RecipeResult", "replay_recipe"]


def _is_operation(op: str, params: dict[str, Any] | None) -> bool:
    if not params or "operation" not in params:
        return False
    try:
        get_operation(op)
    except KeyError:
        return False
    return True


#: from this many new rows on, a replay of several changes shows one progress line
REPLAY_BAR_ROWS = 2000


def replay_recipe(
    h: History,
    new_df: pd.DataFrame,
    *,
    source: Dataset | None = None,
    base: pd.DataFrame | None = None,
    name: str | None = None,
    history: str | None = None,
    progress: bool = True,
    dataset_class: Callable[..., Dataset] | None = None,
) -> RecipeResult:
    """Re-run the recorded changes of ``h`` on ``new_df`` (see the module docstring).

    Parameters
    ----------
    h
        The history to take the recipe from (a live dataset's, or ``open_history(path)``).
    new_df
        The new data: the recorded columns, sample ids in the index.
    source
        The live dataset ``h`` belongs to: decisions are then checked against whole rows
        as they were when decided (walked back from its current state), and the new
        dataset gets its column roles and feature columns. Without it, the column roles
        the history records (``dj.Dataset`` records them when it is made) are used, not
        detected again on the new data; a recorded column the new data lacks is said in
        ``RecipeResult.notes``.
    base
        Instead of ``source``, the base data ``h`` started from (checked by fingerprint):
        whole rows are compared too. Without either, only the values the history holds
        are compared (the label a relabel saw, the row a removal deleted).
    name
        Name of the replayed dataset (default ``<name>-recipe``).
    history
        History path of the replayed dataset (default: in memory).
    progress
        Progress bars of re-run operations, and (from ``REPLAY_BAR_ROWS`` new rows on) one
        line counting the recorded changes replayed, with an estimate of the time left.
    dataset_class
        The Dataset class to build (the facade passes its own; default core's).

    Returns
    -------
    RecipeResult

    Raises
    ------
    ValueError
        ``new_df`` lacks the recorded label column or has other columns than the recorded
        base. Nothing is created then.
    ParamError
        A recorded parameter or setting (the column roles) is malformed or hostile.
    BaseMismatchError
        ``base`` is not the data the history started from.
    """
    recorded = h.base
    if recorded is None:
        raise ValueError(f"{h.path} has no recorded base data; it holds no recipe")
    if not isinstance(new_df, pd.DataFrame):
        raise TypeError(f"new_df must be a pandas DataFrame; got {type(new_df).__name__}")
    label = recorded["label"]
    want, got = list(recorded["columns"]), [str(c) for c in new_df.columns]
    if label not in got:
        raise ValueError(f"the new data has no label column {label!r} (columns: {got})")
    if set(want) != set(got):
        raise ValueError(
            f"the new data's columns differ from the recorded ones: missing "
            f"{sorted(set(want) - set(got))}, extra {sorted(set(got) - set(want))}. Give the "
            "new data the same columns (rename, add or drop them first)"
        )
    new_df = new_df[want]
    old: StateWalker | None = None
    if source is not None:
        old = StateWalker(source.checkout(0), label)
    elif base is not None:
        h.replay(base, to=0)  # BaseMismatchError when it is not this history's base
        old = StateWalker(base, label)
    classes = recorded.get("classes")
    kwargs: dict[str, Any] = {}
    if classes is not None:
        kwargs["classes"] = _codec.decode_value(classes)
    # the column roles the recorded operations read their features through: the source
    # dataset's, else the ones the history records (never detected again on the new data)
    notes: list[str] = []
    if source is not None:
        kwargs.update(
            roles={c: r for c, r in source.roles.items() if c != label},
            features=[c for c in source.feature_columns if c != label],
        )
    else:
        recorded_cols = recorded_roles(h)
        if recorded_cols is not None:
            given, missing = recorded_cols.for_columns(want, label)
            kwargs.update(given)
            if missing:
                notes.append(
                    f"recorded column roles of {missing[:10]} not used: the new data has no "
                    "such column"
                )
        else:
            notes.append(
                "the history records no column roles (written by an older dcai_jupyter): "
                "they were detected again on the new data"
            )
    changes = _recorded_changes(h)
    # the recorded embedder, by registered name (never imported): resolved before anything
    embed_name = recorded_embed(h)
    embed = resolve_embed(embed_name) if embed_name is not None else None
    make = dataset_class or Dataset
    ds_name = name or f"{h.name or 'dataset'}-recipe"
    info = {
        "from": h.path,
        "name": h.name,
        "head": h.head,
        "base_fingerprint": recorded.get("fingerprint"),
        "rows": len(new_df),
    }
    with provenance_source("recipe"):
        ds = make(new_df, label=label, name=ds_name, history=history or ":memory:", **kwargs)
        if embed is not None:
            set_embed(ds, embed)
        if "roles" in kwargs:
            for c in kwargs["roles"]:
                ds.roles.why[c] = "as recorded (recipe replay)"
        record_roles(ds)  # the replayed dataset's own history can be replayed the same way
        ds.history.record_event("replay_recipe", info, {"rows": len(ds)})
        run = CarryOver(h, ds, old, progress)
        alive, why = effective_changes(changes)
        live = set(alive)
        # one line for the whole replay on large data (re-run operations add their own)
        show = progress and len(new_df) >= REPLAY_BAR_ROWS and len(changes) > 1
        with progress_bar(total=len(changes), desc="recipe replay", disable=not show) as bar:
            for c in changes:
                bar.set_postfix_str(f"v{c.seq} {c.op}", refresh=False)
                if c.seq in live:
                    if _is_operation(c.op, c.params) and c.params.get("selection"):
                        run.selection(c)
                    elif _is_operation(c.op, c.params):
                        run.operation(c.seq, c.op, c.params)
                    else:
                        run.decision(c)
                else:
                    run.skipped[c.seq] = {
                        "op": c.op,
                        "reason": why.get(c.seq, "not in effect at the head"),
                    }
                if old is not None:
                    old.advance(c)
                bar.update(1)
        result = RecipeResult(
            dataset=ds,
            applied=result_frame(run.applied, APPLIED_COLUMNS),
            skipped=result_frame(run.skipped, SKIPPED_COLUMNS),
            needs_review=review_frame(run.review),
            content_check="rows" if old is not None else "recorded values",
            source=info,
            findings=dict(run.findings),
            reviews=_reviews(h, new_df),
            notes=notes,
        )
        ds.history.record_event(
            "recipe_result",
            info,
            json.loads(json.dumps({**result.counts(), "content_check": result.content_check})),
        )
    return result


def _recorded_changes(h: History) -> list[RecordedChange]:
    """``recorded_changes(h)``; params that are not a JSON object are a ParamError."""
    changes = recorded_changes(h)
    for c in changes:
        if not isinstance(c.params, dict):
            raise ParamError(
                f"recorded change v{c.seq} ({c.op!r}): params must be a JSON object; got "
                f"{type(c.params).__name__}"
            )
    return changes


def _reviews(h: History, new_df: pd.DataFrame) -> pd.DataFrame:
    """The recorded review state, and whether each sample is in the new data."""
    frame = h.reviews()
    return frame.assign(in_new_data=frame.index.isin(new_df.index))
