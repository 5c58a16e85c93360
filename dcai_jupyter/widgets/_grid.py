"""SampleGrid: a virtual-scrolling table / gallery of a Dataset, paged from the kernel."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import traitlets as t

from ._base import MISSING_FRONT_END, DatasetWidget, same_label, static_asset
from ._counts import SYNC_ROWS, count_in_background, follow, label_counts, number_format
from ._images import image_data_url
from ._protocol import (
    ProtocolError,
    column_json,
    is_null_scalar,
    json_scalar,
    parse_bulk_request,
    parse_ids,
    parse_page_request,
)
from ._resolved import mark_reviewed, resolution, reviewed_ids, watch
from ._schema import as_findings, build_schema, has_origins
from ._source import PageSource

__all__ = ["SampleGrid"]

#: relabels of at most this many samples are pushed to the views as a patch (no round trip)
PATCH_MAX_IDS = 500
#: side of the image in the detail view
DETAIL_IMAGE_SIZE = 320
#: changes of one sample listed in the detail view (the newest)
DETAIL_HISTORY = 50


def _made_rows(ds: Any) -> bool:
    """Whether an operation made rows or labels of ``ds``: asked after every change, so O(1)
    through ``Dataset.has_origins`` (building ``ds.origins`` costs a DataFrame)."""
    quick = getattr(ds, "has_origins", None)
    return quick if isinstance(quick, bool) else has_origins(ds)


def _same_labels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise :func:`~._base.same_label` of two object arrays (vectorized when the
    values compare elementwise)."""
    try:
        eq = np.asarray(a == b)
        if eq.shape == a.shape and eq.dtype == bool:
            both_missing = pd.isna(a) & pd.isna(b)
            return eq | both_missing
    except (TypeError, ValueError):
        pass
    return np.array([same_label(x, y) for x, y in zip(a, b, strict=True)], dtype=bool)


def _opening_query(schema: list[dict[str, Any]]) -> dict[str, Any]:
    """How a grid opens: findings by their score, most suspicious first (duplicate groups
    then come whole, keeper first, the most suspicious group first); a plain dataset in row
    order."""
    score = next(
        (c["name"] for c in schema if c.get("role") == "finding" and c.get("finding") == "score"),
        None,
    )
    if score is None:
        return {}
    return {"sort": {"column": score, "ascending": False}, "filter": {}}


class SampleGrid(DatasetWidget):
    """Inline grid of a Dataset's samples: images, text, numbers, labels and findings.

    Scrolls over any number of rows: the browser asks the kernel for the page it shows, so
    what crosses the wire is bounded by the screen, not the dataset. Sort by any column
    (click a header), filter by label, flagged only or text, select rows (synced to
    :attr:`selected_ids`) and relabel inline (dropdown or digit keys 1-9 on a focused row).
    With findings, ``a`` accepts the finding of the focused row (or of the selection): its
    suggested label (action ``relabel``) or its removal (action ``remove``). Findings
    resolved since they were made (relabeled, accepted, kept or removed, see
    :mod:`~._resolved`) are marked so, counted in the toolbar and filterable ("to
    review" / "resolved"). Edits are
    ``Dataset`` method calls recorded with provenance source ``widget``; every open view
    refreshes after any change of the dataset. Rows an operation made (``ds.origins``) show
    their origin in an ``origin`` column.

    The toolbar counts the samples per label and, with findings, the flagged and resolved
    ones ("181 of 1,797 flagged · 12 resolved"), live after every edit. Its "Bulk actions"
    act on the selection or on every row matching the current filter: accept the open
    findings' suggestions, relabel to a class, remove (each one recorded change:
    ``ds.undo()`` reverts it in one step) or mark the open findings reviewed (one recorded
    ``mark_reviewed`` event; every view shows them resolved as ``reviewed``; the panel's
    Undo, or "Unmark reviewed" on rows that are, records the ``unmark_reviewed`` event that
    reopens them). A numeric
    column shows all its cells with one format chosen from its values.

    Parameters
    ----------
    ds : Dataset
        The dataset to show.
    findings : Findings, optional
        What a find step found (``ds.find_label_issues()``, duplicates, outliers, ...):
        its columns are shown by their declared roles (suggestion, score, flag, group,
        keeper, reason), sortable, with the flag as the "flagged only" filter. The grid
        opens sorted by the score, most suspicious first (a first click on the score's
        header sorts that way too). With a group role, sorting by the score or the group
        keeps each group's rows adjacent, the keeper first, and a member's cells that
        differ from its keeper are marked; "flagged only" then shows whole groups.
    issues : Findings, optional
        Alias of ``findings``.
    layout : {"table", "gallery"}
        Table rows, or a contact sheet of thumbnails (image datasets); switch later with
        the toolbar button or ``grid.mode = "gallery"``.
    height : int
        Height of the scrolling area in pixels (default 480); the toolbar and status line
        come on top. ``grid.height = 800`` resizes a grid on screen.
    page_size : int
        Rows asked for per request.

    Examples
    --------
    >>> grid = SampleGrid(ds, findings=ds.find_label_issues(), layout="gallery")  # doctest: +SKIP
    >>> grid.selected_ids  # doctest: +SKIP
    [12, 40]
    """

    _esm = static_asset("grid.js", MISSING_FRONT_END)
    _css = static_asset("widgets.css", "")
    _widget_name = "SampleGrid"
    _push_order = 0  # its message about a change goes out first

    schema = t.List(t.Dict(), help="Columns: name, kind, role, sortable").tag(sync=True)
    has_findings = t.Bool(False, help="Findings are shown (the flagged filter works)").tag(
        sync=True
    )
    action = t.Unicode("", help="What accepting a finding does (relabel, remove, ...)").tag(
        sync=True
    )
    findings_op = t.Unicode("", help="Operation family of the findings shown").tag(sync=True)
    image_column = t.Unicode("").tag(sync=True)
    mode = t.Enum(
        ("table", "gallery"),
        default_value="table",
        help="Table rows or gallery tiles (``layout`` is ipywidgets' styling trait)",
    ).tag(sync=True)
    selected_ids = t.List(t.Int(), help="Sample ids selected in the browser").tag(sync=True)
    page_size = t.Int(50).tag(sync=True)
    height = t.Int(480).tag(sync=True)
    query = t.Dict(
        help="The view's sort and filter ({'sort': {column, ascending} | None, 'filter': "
        "{label, flagged, text, review}}), kept in the widget's state so that a reloaded page "
        "shows the same rows"
    ).tag(sync=True)
    hidden_columns = t.List(
        t.Unicode(),
        allow_none=True,
        default_value=None,
        help="Columns not shown (the toolbar's column chooser sets it); None: the default "
        "(features past the first 40 hidden). sample_id and the label are always shown",
    ).tag(sync=True)
    review_generation = t.Int(
        0, help="Bumped when a keep decision changed which findings are resolved"
    ).tag(sync=True)

    def __init__(
        self,
        ds: Any,
        *,
        findings: Any = None,
        issues: Any = None,
        layout: str = "table",
        height: int = 480,
        page_size: int = 50,
    ) -> None:
        found = as_findings(findings, issues)
        schema = build_schema(ds, found, origins=has_origins(ds))
        self._findings = found
        self._source = PageSource(ds, found, schema)
        self._formats: dict[str, dict[str, Any]] | None = None
        super().__init__(
            ds,
            schema=schema,
            has_findings=found is not None,
            action="" if found is None else found.action,
            findings_op="" if found is None else found.op,
            image_column=str(getattr(ds, "image_column", None) or ""),
            mode=layout,
            height=int(height),
            page_size=max(1, min(int(page_size), 500)),
            query=_opening_query(schema),
        )
        if found is not None:
            watch(ds, self)

    def _rebind(self, old: Any, new: Any) -> None:
        """Pages are read from the newer Dataset (the ``Dataset(...)`` cell ran again)."""
        self._source = PageSource(new, self._findings, self._source.schema)
        self._formats = None

    def _reviews_changed(self) -> None:
        """A keep decision (in any view) changed the resolved state: the rows shown refresh."""
        with self._lock:
            self.review_generation += 1

    @property
    def findings(self) -> Any:
        """The Findings shown, or None."""
        return self._findings

    @property
    def issues(self) -> Any:
        """Alias of :attr:`findings`."""
        return self._findings

    def _on_change(self, change: Any) -> None:
        self._source.changed(change)
        follow(self._ds, change)  # per-label counts: a relabel is applied as its delta
        if not isinstance(change, dict) or change.get("op") != "relabel":
            self._formats = None  # values other than labels may have changed
        self._send_patch(change)
        if not any(c["role"] == "origin" for c in self.schema) and _made_rows(self._ds):
            # an operation made rows since: show where they came from
            schema = build_schema(self._ds, self._findings, origins=True)
            self._source.set_schema(schema)
            self.schema = schema
            self._apply_hidden(schema)

    @t.observe("hidden_columns")
    def _hidden_columns_changed(self, change: Any) -> None:
        """The column chooser changed: serve and show the columns chosen."""
        self._apply_hidden(self.schema)

    def _apply_hidden(self, schema: list[dict[str, Any]]) -> list[dict[str, Any]]:
        hidden = self.hidden_columns
        if hidden is None:
            return schema
        gone = set(hidden)
        self._formats = None
        new = []
        for c in schema:
            c = {k: v for k, v in c.items() if k != "hidden"}
            if c["name"] in gone and c["role"] not in ("id", "label"):
                c["hidden"] = True
            new.append(c)
        self._source.set_schema(new)
        if new != self.schema:
            self.schema = new
        return new

    def _send_patch(self, change: Any) -> None:
        """Push a small relabel to the browser before the new version (one message, no page
        round trip): the views update the rows they hold in place. Views whose rows depend on
        the labels (sorted or filtered by them) and any other change refetch their pages."""
        if not isinstance(change, dict) or change.get("op") != "relabel":
            return
        ids, version = change.get("ids"), change.get("version")
        if not isinstance(version, int) or not ids or len(ids) > PATCH_MAX_IDS:
            return
        ds = self._ds
        if int(ds.version) != version:
            return  # changed again since: the views refetch
        ids = [int(i) for i in ids]
        label_kind = next((c["kind"] for c in self.schema if c["role"] == "label"), "label")
        values = np.asarray(ds.column(ds.label, ds.positions(ids)))
        msg: dict[str, Any] = {
            "type": "patch",
            "version": version,
            "ids": ids,
            "label": column_json(values, label_kind),
            "pool": self._source.pool_counts(version),
        }
        # in the classes this view has (ds.classes may scan the labels: not before a patch)
        labels = self._label_counts(list(self.classes))
        if labels is not None:
            msg["labels"] = labels
        if self._findings is not None:
            state = resolution(ds, self._findings)
            msg["resolved"] = [state.get(i, "") or None for i in ids]
            msg["counts"] = {
                "flagged": int(self._findings.flags.sum()),
                "resolved": int((state != "").sum()),
            }
        if int(ds.version) == version:
            self._tell(msg)  # the front ends follow the new version from it

    # -- requests ----------------------------------------------------------------------
    def _handlers(self) -> dict[str, Any]:
        return {
            "page": self._on_page,
            "relabel": self._on_relabel,
            "remove": self._on_remove,
            "accept": self._on_accept,
            "detail": self._on_detail,
            "bulk": self._on_bulk,
            "bulk_preview": self._on_bulk_preview,
        }

    def _on_detail(self, msg: dict[str, Any]) -> dict[str, Any]:
        """One sample in full: every field, the finding (its reason, its resolved state) and
        every recorded change of this sample id, with where it came from."""
        (sid,) = parse_ids([msg.get("id")])
        ds = self._ds
        version = int(ds.version)
        try:
            frame = ds.take([sid])
        except KeyError:
            raise ProtocolError(f"sample {sid} is no longer in the dataset") from None
        # column by column: a row as one Series would turn ints into floats beside floats
        row = {c: frame[c].iloc[0] for c in frame.columns}
        image = self.image_column or None
        answer: dict[str, Any] = {
            "type": "detail",
            "id": sid,
            "version": version,
            "fields": [[str(c), json_scalar(v, clamp=2000)] for c, v in row.items() if c != image],
            "image": image_data_url(row[image], DETAIL_IMAGE_SIZE) if image in row else None,
            "finding": [],
            "reason": None,
            "resolved": None,
            "history": self._sample_history(sid),
        }
        found = self._findings
        if found is not None and sid in found.frame.index:
            fr = found.frame
            frow = {c: fr[c].at[sid] for c in fr.columns}
            answer["finding"] = [[str(c), json_scalar(v, clamp=2000)] for c, v in frow.items()]
            reason = found.roles.get("reason")
            if reason is not None and not is_null_scalar(frow[reason]):
                answer["reason"] = json_scalar(frow[reason], clamp=2000)
            state = resolution(ds, found).get(sid, "")
            answer["resolved"] = str(state) or None
        return answer

    def _sample_history(self, sid: int) -> list[dict[str, Any]]:
        """The recorded changes that touched ``sid`` (newest last): version, op, source, reason
        and the cell (execution count, cell id) or widget that made them."""
        changes = self._ds.history.changes
        out = []
        for r in changes.itertuples():
            ids = r.ids
            if ids is None or is_null_scalar(ids) or sid not in ids:
                continue
            where = r.widget if r.source == "widget" else None
            if r.source == "cell" and not is_null_scalar(r.execution_count):
                where = f"In [{int(r.execution_count)}]"
            out.append(
                {
                    "version": int(r.version),
                    "op": str(r.op),
                    "source": str(r.source),
                    "where": None if is_null_scalar(where) else str(where),
                    "reason": None if is_null_scalar(r.reason) else str(r.reason)[:500],
                }
            )
        return out[-DETAIL_HISTORY:]

    def _on_page(self, msg: dict[str, Any]) -> Any:
        sortable = [c["name"] for c in self.schema if c.get("sortable")]
        query = parse_page_request(
            msg,
            sortable=sortable,
            match_class=self._match_class,
            has_findings=self._findings is not None,
        )
        answer: Any = self._source.page(query)
        labels = self._label_counts()
        if labels is not None:
            answer["labels"] = labels
        answer["formats"] = self._number_formats()
        return answer

    def _label_counts(self, classes: list[Any] | None = None) -> dict[str, Any] | None:
        """Samples per label now (see :func:`~._counts.label_counts`); for a dataset of more
        than :data:`~._counts.SYNC_ROWS` rows not counted at this version, None: they are
        counted on a background thread and sent when ready (a ``counts`` message)."""
        ds = self._ds
        labels = label_counts(ds, classes, block=len(ds) <= SYNC_ROWS)
        if labels is None:
            count_in_background(ds, self._send_label_counts)
        return labels

    def _send_label_counts(self) -> None:
        """A background count is done: send the samples per label to the browser."""
        labels = label_counts(self._ds, list(self.classes), block=False)
        if labels is not None:
            self.send({"type": "counts", "labels": labels})

    def _number_formats(self) -> dict[str, dict[str, Any]]:
        """One format per numeric column shown (see :func:`~._counts.number_format`),
        chosen once from the column's values and kept until a change other than a relabel."""
        formats = self._formats
        if formats is not None:
            return formats
        ds, found = self._ds, self._findings
        formats = {}
        for c in self.schema:
            if c["kind"] != "number" or c.get("hidden"):
                continue
            if c["role"] == "finding":
                if found is None:
                    continue
                values = found.frame[c["source"]].to_numpy(dtype=float, na_value=np.nan)
            else:
                values = np.asarray(ds.column(c["name"]))
            formats[c["name"]] = number_format(values)
        self._formats = formats
        return formats

    # -- bulk actions --------------------------------------------------------------------
    def _scope_ids(self, msg: dict[str, Any]) -> tuple[np.ndarray, int, bool]:
        """The sample ids a bulk request acts on (the selection, or every row matching the
        filter, in row order), the version they were read at and whether they are every row
        of the dataset."""
        ds = self._ds
        if msg["scope"] == "selection":
            ids = np.asarray(msg["ids"], dtype=np.int64)
            version = int(ds.version)
            present = np.isin(ids, np.asarray(ds.ids))
            if not present.all():
                gone = ids[~present][:10].tolist()
                raise ProtocolError(f"sample(s) {gone} are no longer in the dataset")
            return ids, version, False
        query = parse_page_request(
            {"offset": 0, "limit": 0, "filter": msg["filter"]},
            sortable=[],
            match_class=self._match_class,
            has_findings=self._findings is not None,
        )
        while True:  # as a page: read between changes, never during one
            v = ds.stable_version
            if v is None:
                time.sleep(0)
                continue
            rows, _, _ = self._source.positions(query, int(v))
            all_ids = self._source.ids(int(v))
            ids = all_ids if rows is None else all_ids[rows]
            if ds.stable_version == v:
                everything = rows is None and not query.filtered
                return np.asarray(ids, dtype=np.int64), int(v), everything

    def _open_flagged(self, ids: np.ndarray, everything: bool = False) -> np.ndarray:
        """Of ``ids`` (``everything``: all rows), those whose finding is flagged and still
        open (not resolved since), in the findings' order. O(flagged) for every row."""
        found = self._findings
        if found is None:
            return ids[:0]
        flags = found.flags
        fids = flags.index.to_numpy(dtype=np.int64)[flags.to_numpy(dtype=bool)]
        if not everything:
            fids = fids[np.isin(fids, ids)]
        state = resolution(self._ds, found).reindex(fids, fill_value="").to_numpy(dtype=object)
        return fids[state == ""]  # removed samples are resolved: every id left is present

    def _marked_reviewed(self, ids: np.ndarray, everything: bool = False) -> np.ndarray:
        """Of ``ids`` (``everything``: all rows), those marked reviewed (sorted)."""
        if self._findings is None:
            return ids[:0]
        marked = np.array(sorted(reviewed_ids(self._ds, self._findings)), dtype=np.int64)
        return marked if everything else marked[np.isin(marked, ids)]

    def _acceptable(
        self, ids: np.ndarray, everything: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Of ``ids``, those whose open finding accepting would change, and (relabel/label
        findings) the class each one gets (vectorized: one class lookup per suggestion)."""
        found = self._findings
        if found is None or found.action not in ("relabel", "remove", "label"):
            return ids[:0], None
        candidates = self._open_flagged(ids, everything)
        if found.action == "remove":
            return candidates, None
        suggestion = found.column("suggestion")
        if suggestion is None or not len(candidates):
            return candidates[:0], np.empty(0, dtype=object)
        ds = self._ds
        wanted = suggestion.reindex(candidates).to_numpy(dtype=object)
        codes, uniques = pd.factorize(wanted, use_na_sentinel=True)
        matched = []
        for u in uniques.tolist() if hasattr(uniques, "tolist") else list(uniques):
            try:
                matched.append(self._match_class(json_scalar(u)))
            except ProtocolError:  # a suggestion outside the classes is not accepted
                matched.append(None)
        lookup = np.empty(len(matched) + 1, dtype=object)
        lookup[: len(matched)] = matched  # code -1 (no suggestion): the last, None
        usable = np.array([m is not None for m in matched] + [False], dtype=bool)[codes]
        targets = lookup[codes]
        current = np.asarray(ds.column(ds.label, ds.positions(candidates)), dtype=object)
        differs = usable & ~_same_labels(targets, current)
        return candidates[differs], targets[differs]

    def _on_bulk_preview(self, msg: dict[str, Any]) -> dict[str, Any]:
        """How many samples each bulk action would touch in a scope (for the buttons)."""
        req = parse_bulk_request(msg, preview=True)
        ids, version, everything = self._scope_ids(req)
        accept, _ = self._acceptable(ids, everything)
        return {
            "type": "bulk_preview",
            "scope": req["scope"],
            "version": version,
            "rows": len(ids),
            "accept": len(accept),
            "review": len(self._open_flagged(ids, everything)),
            "unreview": len(self._marked_reviewed(ids, everything)),
        }

    def _on_bulk(self, msg: dict[str, Any]) -> dict[str, Any]:
        """One bulk action on the selection or on every row matching the filter: accept the
        open findings' suggestions, relabel to a class, remove (each ONE recorded change,
        source ``widget``; ``ds.undo()`` reverts it) or mark the open findings reviewed (one
        recorded ``mark_reviewed`` event; every view shows them resolved), or unmark the
        reviewed ones (one ``unmark_reviewed`` event: they are open again)."""
        req = parse_bulk_request(msg)
        action, scope = req["action"], req["scope"]
        ids, _, everything = self._scope_ids(req)
        ds, found = self._ds, self._findings
        where = "selected" if scope == "selection" else "matching the filter"
        op_name = found.op if found is not None else "findings"
        targets: np.ndarray | None = None
        if action == "accept":
            if found is None or found.action not in ("relabel", "remove", "label"):
                raise ProtocolError(
                    "nothing to accept: this grid shows no findings with a suggestion or a "
                    "removal (pass findings=ds.find_label_issues() or another Findings)"
                )
            ids, targets = self._acceptable(ids, everything)
        elif action in ("review", "unreview"):
            if found is None:
                raise ProtocolError(
                    "nothing to mark reviewed: this grid shows no findings "
                    "(pass findings=ds.find_label_issues() or another Findings)"
                )
            if action == "review":
                ids = self._open_flagged(ids, everything)
            else:
                ids = self._marked_reviewed(ids, everything)
        label = self._match_class(req["label"]) if action == "relabel" else None
        expect = req.get("expect")
        if expect is not None and expect != len(ids):
            raise ProtocolError(
                f"the data changed: this action now applies to {len(ids):,} samples, not "
                f"{expect:,}; nothing was changed (check the counts and press again)"
            )
        if action == "relabel" and len(ids):  # the samples labelled so already stay as they are
            current = np.asarray(ds.column(ds.label, ds.positions(ids)), dtype=object)
            wanted = np.empty(len(ids), dtype=object)
            wanted[:] = [label] * len(ids)
            ids = ids[~_same_labels(wanted, current)]
        n = len(ids)
        answer: dict[str, Any] = {"type": "ok", "op": action, "scope": scope, "n": n}
        if n == 0:
            return {**answer, "version": int(ds.version), "changed": False}
        id_list = [int(i) for i in ids]
        before = int(ds.version)
        with self._widget_source():
            if action in ("review", "unreview"):
                assert found is not None
                mark_reviewed(ds, found, id_list, reviewed=action == "review")
                version = int(ds.version)
            elif action == "remove" or (action == "accept" and targets is None):
                reason = f"SampleGrid: remove {n:,} {where}"
                if action == "accept":
                    reason = f"SampleGrid: accept {n:,} {op_name} removals ({where})"
                version = int(ds.remove(id_list, reason=reason))
                self._deselect(id_list)
            elif action == "accept":
                assert targets is not None
                reason = f"SampleGrid: accept {n:,} {op_name} suggestions ({where})"
                version = int(ds.relabel(id_list, list(targets), reason=reason))
            else:
                reason = f"SampleGrid: relabel {n:,} {where} to {json_scalar(label)}"
                version = int(ds.relabel(id_list, [label] * n, reason=reason))
        if action in ("review", "unreview"):  # the ids, for the panel's Undo
            return {**answer, "version": version, "changed": True, "ids": id_list}
        return {**answer, "version": version, "changed": version != before}

    def _on_relabel(self, msg: dict[str, Any]) -> dict[str, Any]:
        ids = parse_ids(msg.get("ids"))
        if "label" not in msg:
            raise ProtocolError("malformed request: relabel needs a label")
        label = self._match_class(msg["label"])
        with self._widget_source():
            version = self._ds.relabel(ids, [label] * len(ids))
        return {"type": "ok", "op": "relabel", "version": int(version), "ids": ids}

    def _on_remove(self, msg: dict[str, Any]) -> dict[str, Any]:
        ids = parse_ids(msg.get("ids"))
        with self._widget_source():
            version = self._ds.remove(ids)
        self._deselect(ids)
        return {"type": "ok", "op": "remove", "version": int(version), "ids": ids}

    def _on_accept(self, msg: dict[str, Any]) -> dict[str, Any]:
        ids = parse_ids(msg.get("ids"))
        op_name = self._findings.op if self._findings is not None else "findings"
        op, version = self._accept(self._findings, ids, reason=f"SampleGrid: accept {op_name}")
        if op == "remove":
            self._deselect(ids)
        return {
            "type": "ok",
            "op": op,
            "version": int(self._ds.version if version is None else version),
            "ids": ids,
            "changed": version is not None,
        }

    def _deselect(self, ids: list[int]) -> None:
        with self._lock:
            gone = set(ids)
            if gone & set(self.selected_ids):
                self.selected_ids = [i for i in self.selected_ids if i not in gone]
